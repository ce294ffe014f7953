"""Running a project's pipeline inside Snowflake as a task graph.

`kedro snowflake deploy` packages the project, uploads it to a code stage and creates one
procedure and one task graph; `kedro snowflake run` executes the graph (`--local`: the
same graph, played offline by Snowpark local testing); `kedro snowflake destroy` removes
it. Rooms: config (the `snowflake.deploy` block), grouping (nodes into tasks), packaging
(what the procedure imports), plan (objects, SQL, graph), procedure (what runs inside),
local (the offline emulation) and account (a real account).
"""
