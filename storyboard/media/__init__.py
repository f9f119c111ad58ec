"""The media toolkit every stage shares: the bundled ffmpeg, probing, frames, clip checks."""
