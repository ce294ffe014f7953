from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    evaluate_model,
    judge_model,
    plot_predictions,
    split_data,
    train_model,
)


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                split_data,
                ["model_input_table", "params:model_options"],
                ["X_train", "X_test", "y_train", "y_test"],
                name="split_data",
            ),
            node(train_model, ["X_train", "y_train"], "regressor", name="train_model"),
            node(
                evaluate_model,
                ["regressor", "X_test", "y_test"],
                "model_metrics",
                name="evaluate_model",
            ),
            node(
                plot_predictions,
                ["regressor", "X_test", "y_test"],
                "prediction_plot",
                name="plot_predictions",
            ),
            node(
                judge_model,
                [
                    "regressor",
                    "champion_model",
                    "X_test",
                    "y_test",
                    "params:quality_gate",
                ],
                "model_candidate",
                name="judge_model",
            ),
        ]
    )
