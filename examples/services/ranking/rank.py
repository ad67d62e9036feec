"""The ranking service: which ranker serves, and how diverse its results are."""

from openfeature import api

client = api.get_client()


def rank(candidates, ctx):
    if client.get_boolean_value("ranking-kill-switch", False, ctx):
        return candidates  # ranking is off: serve the retrieval order
    # ranker-v2 serves the candidate model to a slice of SG traffic
    ranker = client.get_object_value("ranker-v2", {"model": "ranker", "version": "1.4.0"}, ctx)
    diversity = client.get_float_value("ranker-diversity-threshold", 0.3, ctx)
    calibration = client.get_string_value("ranker-calibration", "platt", ctx)
    # Still reads the archived warm-up experiment: `audit --refs` reports this line.
    warmup = client.get_string_value("ranker-v1-warmup", "ranker@1.3.0", ctx)
    return load(ranker, warmup).rank(candidates, diversity=diversity, calibration=calibration)
