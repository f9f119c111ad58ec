"""validate_document / load_storyboard: the broken corpus at exact positions, and the checks
beyond the schema one by one on files made in tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from storyboard.board.model import Storyboard
from storyboard.errors import ValidationError
from storyboard.load.document import load
from storyboard.validate.checks import audio_kind, image_kind, load_storyboard, validate_document
from tests.clips import make_image, make_tone

BROKEN = Path(__file__).parent / "broken"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# file -> every problem expected, in order: ("LINE:COL", path, a fragment of the formatted text)
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "aspect-unquoted.yaml": [
        ("3:17", "settings.aspect_ratio", 'put it in quotes: "16:9"; unquoted, YAML reads 16:9 as 969'),
        ("7:19", "shots[0].aspect_ratio", 'put it in quotes: "9:16"'),
    ],
    "continues-later.yaml": [
        ("5:16", "shots[0].continues", "'second' is a later shot (shots[1])"),
        ("8:16", "shots[1].continues", "did you mean 'first'?"),
        ("11:16", "shots[2].continues", "a shot cannot continue itself"),
    ],
    "duplicate-ids.yaml": [
        ("7:9", "shots[2].id", "the id 'sea' is already used by shots[0] (line 3)"),
    ],
    "duplicate-key.yaml": [
        ("5:5", "shots[0].prompt", "duplicate key 'prompt' (first given on line 4)"),
    ],
    "empty.yaml": [
        ("1:1", "", "the file is empty: start with `storyboard: 1`"),
    ],
    "files.yaml": [
        ("3:9", "images.fake", "not a JPEG, PNG or WebP image (it holds text)"),
        (
            "4:12",
            "images.missing",
            "no such file (paths are relative to the storyboard's folder) (did you mean 'images/ok.png'?)",
        ),
        ("5:12", "images.outside", "'../x.png': it lies outside the storyboard's folder"),
        ("6:13", "images.absolute", "'/etc/hosts' is an absolute path"),
        ("7:15", "images.plain-http", "the providers fetch images over https only"),
        ("8:11", "images.folder", "'images': this is a folder, not a file"),
        ("12:28", "shots[0].frames.first.file", "'images/nope.jpg': no such file"),
        ("12:50", "shots[0].frames.first.url", "an image URL must start with https://"),
    ],
    "kinds.yaml": [
        ("7:11", "shots[0].type", "type is text but the shot gives frames"),
        ("11:11", "shots[1].type", "type is reference but the shot gives no references"),
        ("14:11", "shots[2].type", "type is frames but the shot gives no frames"),
        ("17:5", "shots[3].frames", "frames need a `first` image"),
        ("21:14", "shots[4].frames.first", "this shot continues 'd', whose last frame is its first"),
        ("22:5", "shots[4].references", "cannot also use references"),
        ("26:5", "shots[5].references", "from frames or from references, not both"),
    ],
    "list-at-top.yaml": [
        ("1:1", "", "expected a map of keys and values, not a list"),
    ],
    "misplaced.yaml": [
        ("2:1", "resolution", "unknown key 'resolution' (move it under `settings:`"),
        ("6:5", "shots[0].first", "unknown key 'first' (write it under `frames:`"),
        ("7:5", "shots[0].reference", "unknown key 'reference' (did you mean 'references'?)"),
    ],
    "missing-storyboard.yaml": [
        ("1:1", "", "the file is missing the required key 'storyboard'"),
    ],
    "music-output.yaml": [
        ("3:9", "music.file", "not an MP3, WAV, M4A, OGG or FLAC sound file (it holds text)"),
        ("4:3", "music.loud", "unknown key 'loud': remove it; the keys allowed here are file, volume"),
        ("5:9", "output", "'../film.mp4' lies outside the storyboard's folder"),
    ],
    "names.yaml": [
        ("3:3", "images.1st", "'1st' is not a valid name"),
        ("4:3", "images.keeper", "'keeper' names both an image and a character"),
        ("7:18", "characters.keeper.description", "is empty: fill it in"),
        ("9:9", "shots[0].id", "'bad id!' is not valid: an id is 1-64 letters"),
        ("10:13", "shots[0].prompt", "is empty: fill it in (what the shot shows"),
    ],
    "not-yaml.yaml": [
        ("4:13", "", 'this " is never closed: the text runs to the end of the file'),
    ],
    "numbers.yaml": [
        ("3:9", "settings.seed", "123 is out of range: it must be at least 10000"),
        ("6:11", "music.volume", "2.5 is out of range: it must be at most 2"),
        ("7:13", "music.fade_out", "-1 is out of range: it must be at least 0"),
        ("9:9", "captions.size", "0.5 is out of range: it must be at most 0.2"),
        ("10:13", "captions.position", "the text 'middle' is not allowed here: use one of bottom, top"),
        ("14:11", "shots[0].seed", "100000 is out of range: it must be at most 99999"),
    ],
    "output-ext.yaml": [
        ("2:9", "output", "the output must be an .mp4 file"),
        ("2:9", "output", "give the output as a relative path"),
    ],
    "references.yaml": [
        ("13:5", "shots[0].references", "these references stand for 4 images"),
        ("16:18", "shots[1].references[0]", "character 'ghost' has no images"),
        ("19:21", "shots[2].frames.first", "a frame is one image, but character 'twins' has 2"),
        ("22:36", "shots[3].references[3]", "4 items, but at most 3 are allowed: remove 1"),
    ],
    "shots-empty.yaml": [
        ("2:8", "shots", "0 items, but at least 1 is needed"),
    ],
    "templates.yaml": [
        ("2:11", "template", "no built-in template 'cinematc'"),
        ("6:15", "shots[0].template", "'styles/missing.j2': no such file"),
        ("9:15", "shots[1].template", "a template file must end with .j2"),
    ],
    "too-many-shots.yaml": [
        ("45:5", "shots[21]", "22 items, but at most 21 are allowed: remove 1"),
    ],
    "transitions.yaml": [
        ("5:17", "shots[0].transition", "the first shot has nothing to crossfade from"),
        (
            "9:45",
            "shots[1].transition.duration",
            "a 2 s crossfade must be shorter than the shots it joins, and shots[1] lasts 1 s",
        ),
        ("12:29", "shots[2].transition.duration", "a cut takes no time"),
        (
            "15:24",
            "shots[3].transition.type",
            "the text 'dissolve' is not allowed here: use one of cut, crossfade, fade",
        ),
        ("18:17", "shots[4].transition", "(did you mean 'fade'?)"),
    ],
    "trims.yaml": [
        ("5:11", "shots[0].trim", "the trim keeps nothing: start 6 s is not before end 2 s"),
        ("8:12", "shots[1].trim[0]", "-1 is out of range: it must be at least 0"),
        ("8:16", "shots[1].trim[1]", "9 is out of range: it must be at most 8"),
        ("11:11", "shots[2].trim", "1 items, but at least 2 are needed"),
    ],
    "unknown-key.yaml": [  # one cause, one problem: not also "missing the required key 'prompt'"
        ("4:5", "shots[0].promt", "unknown key 'promt' in shot 'opening' (did you mean 'prompt'? It is"),
    ],
    "unknown-names.yaml": [
        (
            "11:21",
            "shots[0].frames.first",
            "no image or character is named 'dwan' (known names: dawn, keeper)",
        ),
        ("14:26", "shots[1].references[1]", "(did you mean 'keeper'?)"),
    ],
    "wrong-enum.yaml": [
        ("3:10", "settings.model", "use one of fast, quality, lite (did you mean 'fast'?)"),
        ("4:15", "settings.resolution", "the text '8k' is not allowed here: use one of 720p, 1080p, 4k"),
    ],
    "wrong-shape.yaml": [
        ("2:11", "settings", "expected a map of keys and values, not a list"),
        ("4:3", "shots", "expected a list, not a map of keys and values"),
    ],
    "wrong-types.yaml": [
        (
            "2:8",
            "title",
            "expected text, not the date 2024-05-01; e.g. `title: The Lighthouse Keeper` (put it in quotes",
        ),
        ("5:13", "shots[0].prompt", "expected text, not the whole number 12"),
        ("6:11", "shots[0].trim", "expected a list, not the text '0.5-7.5'; e.g. `trim: [0.5, 7.5]`"),
        ("7:12", "shots[0].audio", "expected true or false, not the text 'maybe'"),
        ("8:14", "shots[0].caption", "expected text, not a list"),
    ],
}


def test_every_broken_file_has_expectations() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_reports_exact_positions(name: str) -> None:
    path = BROKEN / name
    with pytest.raises(ValidationError) as info:
        load_storyboard(path)
    got = info.value.problems
    want = EXPECTED[name]
    assert [(f"{p.location.line}:{p.location.column}", p.path) for p in got if p.location] == [
        (pos, field) for pos, field, _ in want
    ], "\n".join(p.format() for p in got)
    for problem, (_, _, fragment) in zip(got, want, strict=True):
        text = problem.format()
        assert fragment in text, text
        assert text.startswith(f"{path}:{problem.location.line}:{problem.location.column}: error: ")
        if problem.location and problem.location.source_line is not None:
            # the caret stands under the column the message names
            caret = text.splitlines()[2]
            assert caret.index("^") == problem.location.column - 1 + 2


def write(tmp_path: Path, text: str, name: str = "board.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    return [
        f"{p.location.line}:{p.location.column} {p.path}: {p.message}" for p in validate_document(load(path))
    ]


MINIMAL = "storyboard: 1\nshots:\n  - id: a\n    prompt: x\n"


def test_minimal_storyboard_loads(tmp_path: Path) -> None:
    sb = load_storyboard(write(tmp_path, MINIMAL))
    assert isinstance(sb, Storyboard)
    assert sb.shots[0].kind == "text" and sb.length == 8.0
    assert sb.title == "board" and sb.provider == "preview"


def test_problems_are_sorted_by_position(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "storyboard: 1\nmusic: {file: nothing.mp3}\nshots:\n  - id: a\n    prompt: x\n"
        "    trim: [5, 1]\n    seed: 5\noutput: x.avi\n",
    )
    got = validate_document(load(path))
    positions = [(p.location.line, p.location.column) for p in got]
    assert positions == sorted(positions) and len(got) == 4


def test_images_are_judged_by_content_not_name(tmp_path: Path) -> None:
    make_image(tmp_path / "images" / "real.webp")
    shutil.copy(tmp_path / "images" / "real.webp", tmp_path / "images" / "webp-named.png")
    make_image(tmp_path / "images" / "real.jpg")
    (tmp_path / "images" / "gif.png").write_bytes(b"GIF89a" + b"\x00" * 20)
    (tmp_path / "images" / "empty.png").write_bytes(b"")
    path = write(
        tmp_path,
        "storyboard: 1\nimages:\n  a: images/real.webp\n  b: images/webp-named.png\n"
        "  c: images/real.jpg\n  d: images/gif.png\n  e: images/empty.png\n"
        "shots:\n  - id: a\n    prompt: x\n",
    )
    assert problems(path) == [
        "6:6 images.d: 'images/gif.png': not a JPEG, PNG or WebP image (it holds a GIF image): "
        "export it as PNG or JPEG",
        "7:6 images.e: 'images/empty.png': not a JPEG, PNG or WebP image (the file is empty): "
        "export it as PNG or JPEG",
    ]


def test_image_over_50_mb_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    with big.open("wb") as f:  # sparse: 51 MB on paper, nothing on disk
        f.write(b"\x89PNG\r\n\x1a\n")
        f.seek(51 * 2**20)
        f.write(b"\x00")
    path = write(tmp_path, "storyboard: 1\nimages:\n  big: big.png\nshots:\n  - id: a\n    prompt: x\n")
    assert problems(path) == [
        "3:8 images.big: 'big.png': the image is 51 MB; the providers take at most 50 MB: export it smaller"
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_out_of_the_folder_is_refused_but_inside_is_fine(tmp_path: Path) -> None:
    outside = make_image(tmp_path / "outside.png")
    board = tmp_path / "film"
    inside = make_image(board / "images" / "in.png")
    (board / "images" / "out.png").symlink_to(outside)
    (board / "images" / "alias.png").symlink_to(inside)
    path = write(
        board,
        "storyboard: 1\nimages:\n  a: images/out.png\n  b: images/alias.png\n"
        "  c: images/../images/in.png\nshots:\n  - id: a\n    prompt: x\n",
    )
    assert problems(path) == [
        "3:6 images.a: 'images/out.png': it is a link to a file outside the storyboard's folder; "
        "copy the file into the folder and give its relative path (a storyboard reads only files "
        "beside it)"
    ]


def test_https_urls_are_taken_as_they_are(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "storyboard: 1\nimages:\n  a: https://example.com/a.png\n  b: {url: https://example.com/b}\n"
        "  c: ftp://example.com/c.png\n  d: https://example.com/a b.png\n"
        "shots:\n  - id: a\n    prompt: x\n    references: [a, b, https://example.com/x.jpg]\n",
    )
    assert problems(path) == [
        "5:6 images.c: 'ftp://example.com/c.png': only https:// URLs or relative paths work here",
        "6:6 images.d: a URL cannot hold spaces: write them as %20",
    ]


def test_music_is_audio_by_content(tmp_path: Path) -> None:
    for name in ("t.mp3", "t.wav", "t.m4a"):
        make_tone(tmp_path / name, seconds=0.3)
    for name in ("t.mp3", "t.wav", "t.m4a"):
        path = write(tmp_path, f"storyboard: 1\nmusic: {{file: {name}}}\n" + MINIMAL[14:])
        assert problems(path) == [], name
    make_image(tmp_path / "cover.jpg")
    shutil.copy(tmp_path / "cover.jpg", tmp_path / "song.mp3")
    path = write(tmp_path, "storyboard: 1\nmusic: {file: song.mp3}\n" + MINIMAL[14:])
    assert problems(path) == [
        "2:15 music.file: 'song.mp3': not an MP3, WAV, M4A, OGG or FLAC sound file (it holds a "
        "JPEG image): export it as MP3"
    ]


def test_magic_bytes() -> None:
    assert image_kind(b"\xff\xd8\xff\xe0") == "JPEG"
    assert image_kind(b"\x89PNG\r\n\x1a\n") == "PNG"
    assert image_kind(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WebP"
    assert image_kind(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert image_kind(b"<svg") is None
    assert audio_kind(b"ID3\x04\x00\x00\x00\x00\x01\x17") == "MP3"
    assert audio_kind(b"ID3 is text, not a tag") is None
    assert audio_kind(b"\xff\xfb\x90\x00") == "MP3"
    assert audio_kind(b"\xff\xff\xff\xff") is None
    assert audio_kind(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "WAV"
    assert audio_kind(b"\x00\x00\x00\x20ftypM4A ") == "M4A"
    assert audio_kind(b"OggS\x00") == "OGG"
    assert audio_kind(b"fLaC\x00") == "FLAC"
    assert audio_kind(b"\x89PNG\r\n\x1a\n") is None


def test_continues_an_earlier_shot_builds_a_frames_shot(tmp_path: Path) -> None:
    make_image(tmp_path / "end.png")
    path = write(
        tmp_path,
        "storyboard: 1\nshots:\n  - id: a\n    prompt: x\n  - id: b\n    prompt: y\n"
        "    continues: a\n    frames: {last: end.png}\n    type: frames\n",
    )
    sb = load_storyboard(path)
    assert sb.shots[1].kind == "frames" and sb.shots[1].continues == "a"
    assert sb.shots[1].last is not None and sb.shots[1].last.path == (tmp_path / "end.png").resolve()


def test_transitions_must_fit_both_shots(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "storyboard: 1\nshots:\n"
        "  - id: a\n    prompt: x\n    trim: [0, 1.5]\n    transition: {type: fade, duration: 1}\n"
        "  - id: b\n    prompt: y\n    transition: {type: crossfade, duration: 1.5}\n"
        "  - id: c\n    prompt: z\n    trim: [0, 2]\n    transition: {type: crossfade, duration: 1.2}\n"
        "  - id: d\n    prompt: w\n    transition: {type: crossfade, duration: 1}\n",
    )
    assert problems(path) == [
        "9:45 shots[1].transition.duration: a 1.5 s crossfade must be shorter than the shots it "
        "joins, and shots[0] lasts 1.5 s: shorten the transition or keep more of the shot",
        "16:45 shots[3].transition.duration: shots[2] lasts 2 s, but the transitions into and out "
        "of it take 2.2 s: shorten one of them",
    ]


TWO_SHOTS = (
    "shots:\n  - id: a\n    prompt: x\n"
    "  - id: b\n    prompt: y\n    trim: [0, 3]\n    transition: {type: crossfade, duration: 1}\n"
)


@pytest.mark.parametrize(
    ("ending", "want"),
    [
        (
            "{type: fade, duration: 12}",
            "2:32 ending.duration: a 12 s fade is as long as the film or longer "
            "(it lasts 10 s): shorten the fade",
        ),
        (
            "{type: fade, duration: 2}",
            "2:32 ending.duration: the film's 2 s fade to black must be shorter "
            "than its last shot as it is on screen: shots[1] ('b') shows 2 s after its crossfade; shorten "
            "the fade or keep more of the shot",
        ),
        ("{type: fade, duration: -1}", "2:32 ending.duration: -1 is out of range: it must be more than 0"),
        ("{type: fade, duration: 0}", "2:32 ending.duration: 0 is out of range: it must be more than 0"),
        ("{type: cut, duration: 1}", "2:21 ending.duration: a cut takes no time, so it has no duration"),
        ("crossfade", "2:9 ending: the text 'crossfade' is not allowed here: use one of cut, fade"),
        ("{fade: 1}", "2:10 ending.fade: unknown key 'fade'"),  # and a hint that keeps the number:
    ],
)
def test_an_ending_fade_lies_within_the_last_shot(tmp_path: Path, ending: str, want: str) -> None:
    path = write(tmp_path, f"storyboard: 1\nending: {ending}\n" + TWO_SHOTS)
    (got,) = problems(path)
    assert got.startswith(want), got
    if ending == "{fade: 1}":
        (problem,) = validate_document(load(path))
        assert (
            problem.hint
            == "write the fade as `ending: {type: fade, duration: 1}` (seconds), or `ending: fade`"
        )


def test_an_ending_is_read_with_its_defaults(tmp_path: Path) -> None:
    for ending, want in (
        ("fade", ("fade", 1.0)),
        ("{type: fade, duration: 1.9}", ("fade", 1.9)),
        ("cut", ("cut", 0.0)),
    ):
        path = write(tmp_path, f"storyboard: 1\nending: {ending}\n" + TWO_SHOTS)
        sb = load_storyboard(path)
        assert (sb.ending.type, sb.ending.duration) == want
    sb = load_storyboard(write(tmp_path, "storyboard: 1\n" + TWO_SHOTS))
    assert sb.ending.type == "cut"  # none said: the film ends on a cut


def test_a_fade_in_on_the_first_shot_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    transition: {type: fade, duration: 2}\n")
    sb = load_storyboard(path)
    assert sb.shots[0].transition.type == "fade" and sb.shots[0].transition.duration == 2.0


def test_template_file_inside_the_folder(tmp_path: Path) -> None:
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "noir.j2").write_text("Noir. {{ prompt }}\n")
    path = write(
        tmp_path, "storyboard: 1\ntemplate: styles/noir.j2\n" + MINIMAL[14:] + "    template: anime\n"
    )
    assert load_storyboard(path).template == "styles/noir.j2"
    path = write(tmp_path, "storyboard: 1\ntemplate: ../noir.j2\n" + MINIMAL[14:])
    assert problems(path) == [
        "2:11 template: '../noir.j2': it lies outside the storyboard's folder; copy the file into "
        "the folder and give its relative path (a storyboard reads only files beside it)"
    ]


def test_output_rules(tmp_path: Path) -> None:
    (tmp_path / "renders" / "dir.mp4").mkdir(parents=True)
    for output, expected in [
        ("renders/film.mp4", []),
        ("renders/../film.mp4", []),
        (
            "renders/dir.mp4",
            ["2:9 output: 'renders/dir.mp4' is a folder: name a file, e.g. renders/film.mp4"],
        ),
        (
            "..\\\\film.mp4",
            [
                "2:9 output: '..\\\\film.mp4': give the output as a relative path with /, "
                "e.g. renders/film.mp4 (it is written inside the storyboard's folder)"
            ],
        ),
    ]:
        path = write(tmp_path, f'storyboard: 1\noutput: "{output}"\n' + MINIMAL[14:])
        assert problems(path) == expected, output


def test_reference_counts_after_expanding_characters(tmp_path: Path) -> None:
    for name in ("a.png", "b.png", "c.png"):
        make_image(tmp_path / name)
    head = (
        "storyboard: 1\ncharacters:\n  duo: {description: two, images: [a.png, b.png]}\n"
        "  solo: {description: one, images: [c.png]}\nshots:\n"
    )
    ok = write(
        tmp_path,
        head + "  - id: a\n    prompt: x\n    references: [duo, solo]\n"
        "  - id: b\n    prompt: y\n    frames: {first: solo, last: duo}\n",
    )
    assert problems(ok) == [
        "11:33 shots[1].frames.last: a frame is one image, but character 'duo' has 2: name one "
        "image (e.g. the path of one of its images) instead"
    ]
    sb_text = head + "  - id: a\n    prompt: x\n    references: [duo, solo]\n"
    sb = load_storyboard(write(tmp_path, sb_text))
    assert [a.path.name for a in sb.shots[0].references] == ["a.png", "b.png", "c.png"]


def test_validate_imports_no_moviepy_numpy_or_pillow() -> None:
    import subprocess
    import sys

    code = (
        "import sys, storyboard.validate.checks; "
        "bad = [m for m in ('moviepy', 'numpy', 'PIL') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("link", ["renders", ".storyboard"])
def test_what_the_tool_writes_cannot_lead_outside_through_a_link(tmp_path: Path, link: str) -> None:
    folder = tmp_path / "film"
    (tmp_path / "outside").mkdir()
    folder.mkdir()
    (folder / link).symlink_to(tmp_path / "outside")
    path = folder / "film.yaml"
    path.write_text("storyboard: 1\nshots:\n  - id: a\n    prompt: x\n")
    with pytest.raises(ValidationError) as e:
        load_storyboard(path)
    (p,) = e.value.problems
    assert "leads outside the storyboard's folder" in p.message and p.location.file == str(path)
    # an explicit output inside the folder is fine when only the default one escapes
    if link == "renders":
        path.write_text("storyboard: 1\noutput: out/film.mp4\nshots:\n  - id: a\n    prompt: x\n")
        assert load_storyboard(path).output == folder / "out" / "film.mp4"


def test_special_files_named_by_a_storyboard_say_what_they_are(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")  # never opened: a read would block for ever
    os.mkfifo(tmp_path / "out.mp4")
    path = write(
        tmp_path,
        "storyboard: 1\nimages:\n  p: pipe.png\nshots:\n  - id: a\n    prompt: x\noutput: out.mp4\n",
    )
    assert problems(path) == [
        "3:6 images.p: 'pipe.png': this is a named pipe (FIFO), not a file",
        "7:9 output: 'out.mp4' is a named pipe (FIFO): name a file, e.g. renders/film.mp4",
    ]


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        (  # a dedented key of the map just above it
            MINIMAL + "music:\n  file: theme.mp3\nvolume: 0.4\n",
            "7:1 volume",
            "it belongs under `music:` (line 5): indent it by 2 spaces, like the keys above it",
        ),
        (MINIMAL + "captions:\n  position: top\nburn: true\n", "7:1 burn", "it belongs under `captions:`"),
        (MINIMAL + "burn: true\n", "5:1 burn", "it belongs under `captions:`; indent it there"),
        (MINIMAL + "caption: Dawn\n", "5:1 caption", "it belongs to a shot: indent it under one of the"),
        (  # a top-level key indented into a map
            MINIMAL + "music:\n  file: theme.mp3\n  output: renders/film.mp4\n",
            "7:3 music.output",
            "`output` is a top-level key: move it to the start of its line, out of `music:`",
        ),
        (MINIMAL + "    duration: 1\n", "5:5 shots[0].duration", "write it under `transition:`"),
        (
            MINIMAL + "    output: renders/film.mp4\n",
            "5:5 shots[0].output",
            "`output` is a top-level key, not a shot's",
        ),
        (
            MINIMAL + "    transition:\n      type: fade\n      caption: Dawn\n",
            "7:7 shots[0].transition.caption",
            "`caption` belongs to the shot, not to its `transition:`: indent it like `transition`",
        ),
    ],
)
def test_a_key_at_the_wrong_level_says_where_it_belongs(
    tmp_path: Path, text: str, where: str, hint: str
) -> None:
    make_tone(tmp_path / "theme.mp3")
    with pytest.raises(ValidationError) as e:
        load_storyboard(write(tmp_path, text))
    (p,) = e.value.problems
    assert f"{p.location.line}:{p.location.column} {p.path}" == where
    assert p.hint is not None and hint in p.hint, p.format()


def test_template_problems_come_with_every_other_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "storyboard: 1\nvars: {place: Oslo}\nsettings:\n  resolution: 720\nshots:\n"
        "  - id: a\n    prompt: Dawn over {{ plase }}\n    trim: [5, 1]\n"
        "  - id: b\n    prompt: x\n    caption: '{{ shot.nmber }}'\n  - id: c\n    prompt: '{{ 1 / 0 }}'\n"
        "    seed: 5\n",
    )
    with pytest.raises(ValidationError) as e:
        load_storyboard(path)
    got = [f"{p.location.line}:{p.location.column} {p.path}" for p in e.value.problems]
    assert got == [
        "4:15 settings.resolution",
        "7:13 shots[0].prompt",  # the template error, in the same pass as the others
        "8:11 shots[0].trim",
        "11:14 shots[1].caption",
        "13:13 shots[2].prompt",
        "14:11 shots[2].seed",
    ], "\n".join(p.format() for p in e.value.problems)
    assert "did you mean 'place'?" in e.value.problems[1].format()


def test_a_broken_part_does_not_echo_as_undefined_names(tmp_path: Path) -> None:
    # vars is not a map: its one problem is said once, not again by every prompt naming it;
    # a template that cannot even be parsed is still news
    path = write(
        tmp_path,
        "storyboard: 1\nvars: [Oslo]\nshots:\n  - id: a\n    prompt: '{{ place }}'\n"
        "  - id: b\n    prompt: '{{ x | }}'\n",
    )
    with pytest.raises(ValidationError) as e:
        load_storyboard(path)
    got = [p.path for p in e.value.problems]
    assert got == ["vars", "shots[1].prompt"], [p.format() for p in e.value.problems]


@pytest.mark.parametrize(
    ("other", "where"),
    [
        # a duplicate id echoes nothing of another shot's: its template error is still news
        ("  - id: a\n    prompt: again\n", "7:9 shots[1].id"),
        # a missing music file leaves a music without its file: the rest still gets checked
        ("music: {file: them.mp3, volume: 0.5}\n", "7:15 music.file"),
    ],
)
def test_a_template_error_is_found_beside_any_other_problem(tmp_path: Path, other: str, where: str) -> None:
    path = write(
        tmp_path,
        "storyboard: 1\nvars: {place: Oslo}\nshots:\n  - id: a\n    prompt: Dawn over {{ plase }}\n"
        "    caption: '{{ plce }}'\n" + other,
    )
    with pytest.raises(ValidationError) as e:
        load_storyboard(path)
    got = [f"{p.location.line}:{p.location.column} {p.path}" for p in e.value.problems]
    shown = [p.format() for p in e.value.problems]
    assert got[:2] == ["5:13 shots[0].prompt", "6:14 shots[0].caption"], shown
    assert where in got, shown


def test_a_broken_part_leaves_out_that_name_only(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "storyboard: 1\ntitle: {a: 1}\nvars: {place: Oslo}\nshots:\n"
        "  - id: a\n    prompt: '{{ title }} over {{ plase }}'\n",
    )
    with pytest.raises(ValidationError) as e:
        load_storyboard(path)
    shown = [p.format() for p in e.value.problems]
    assert [p.path for p in e.value.problems] == ["title", "shots[0].prompt"], shown
    assert "'plase' is undefined" in shown[1] and "'title'" not in shown[1]


def test_a_fade_out_for_the_whole_film_is_pointed_to_ending(tmp_path: Path) -> None:
    (problem,) = validate_document(load(write(tmp_path, "storyboard: 1\nfade_out: 2\n" + TWO_SHOTS)))
    assert problem.message == "unknown key 'fade_out'"
    assert problem.hint is not None and problem.hint.startswith("`ending: {type: fade, duration: 1}` fades")
