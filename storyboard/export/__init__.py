"""The cut as a timeline an editor can finish: OpenTimelineIO, CMX 3600 EDL, FCP 7 XML.

One module per step: `source` (the cut as the stitcher laid it out, with the facts of each
file), `otio` (that layout as an OpenTimelineIO timeline), `edl` and `fcp` (what each of
those formats needs beyond the adapter), `write` (the format by extension, written whole,
with its subtitles beside it).
"""
