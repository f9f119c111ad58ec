"""What a storyboard looks like from outside a render: its contact sheet, and what a change
to it in git costs.

Contact sheet: `model` (what the page says, takes included), `status` (where each shot
stands, read from plan/decide in one place), `stills` (frames as embedded images), `gather`
(a plan and its clips into the model), `page` (the model as HTML, with `page.html.j2`).
Versions: `revision` (the storyboard at a git revision, without a checkout), `diff` (each
shot's change between two plans, and its cost).
"""
