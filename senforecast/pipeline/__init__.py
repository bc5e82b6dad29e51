"""The pipeline: a config file in, every table, chart and report out (``run_pipeline``), runs of
many authorities or scenarios on an executor (``runs``) and the command line (``cli``)."""
from __future__ import annotations

from .config import Config, ConfigError, config_from_dict, demo_config, load_config
from .run import PipelineResult, run_pipeline, write_outputs

__all__ = ["Config", "ConfigError", "config_from_dict", "demo_config", "load_config", "PipelineResult",
           "run_pipeline", "write_outputs"]
