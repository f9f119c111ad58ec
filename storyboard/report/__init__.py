"""The contact sheet: one self-contained HTML page of a storyboard's shots, beside its film.

`model` (what the page says, takes included), `status` (where each shot stands, read from
plan/decide in one place), `stills` (frames as embedded images), `gather` (a plan and its
clips into the model), `page` (the model as HTML, with `page.html.j2`).
"""
