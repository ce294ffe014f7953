"""From a tracked run to a model in production: the `registry:` block of
conf/<env>/snowflake.yml (config.py) and the quality gate that decides whether a new
model takes the champion's alias (gate.py)."""
