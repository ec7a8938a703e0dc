"""The Task 2 rubric as the end-to-end tests grade a class on the demo data."""
from __future__ import annotations

from grader.rubric import Rubric, load_rubric

# The demo set has MNIST's sizes (54,000 training images for the students, 6,000 validation, 10,000
# hidden): training every notebook of a set on all of it would take CI an hour on two cores, and
# notebooks that evaluate 6,000 "test" images after every epoch run into the cell time limit on a
# loaded machine. The students get TRAIN_LIMIT training images and a VALIDATION share of the
# training files as their test data (1,200 images); each model's input format is chosen on
# FORMAT_IMAGES of those; the hidden split keeps its 10,000.
TRAIN_LIMIT = 2000
VALIDATION = 0.02
FORMAT_IMAGES = 300


def demo_rubric() -> Rubric:
    """rubrics/task2.yaml with the students' training and test parts cut as above."""
    rubric = load_rubric("task2")
    data = rubric.section("data")["mnist"].model_copy(update={"train_limit": TRAIN_LIMIT, "validation": VALIDATION})
    assert rubric.section("evaluation") is not None
    evaluation = rubric.section("evaluation").model_copy(update={"format_images": FORMAT_IMAGES})
    return rubric.model_copy(update={"data": {"mnist": data}, "evaluation": evaluation})
