"""The names the task graph, its procedure and `run --local` agree on."""

# The file among the procedure's IMPORTS that describes the deploy (groups, nodes, env).
MANIFEST = "kedro_deploy_manifest.json"
# The first and the last step of every graph run; a group of nodes never takes them.
ROOT, FINALIZER = "ROOT", "FINALIZER"
