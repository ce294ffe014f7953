"""The Snowpark session of a run: its config block, creation and the Kedro hook."""
