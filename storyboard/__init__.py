"""storyboard: a multi-shot storyboard compiler for Veo 3.1 services.

The pipeline reads like its diagram: load, validate, compile, generate, stitch.
"""

__version__ = "0.1.0"
