"""Stage 4, the final cut: the timeline, transitions, sound, captions, and ffmpeg runs."""
