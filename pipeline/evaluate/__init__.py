"""Evaluation of pipeline outputs against labelled corpora."""
