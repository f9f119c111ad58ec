"""A file's packets, read without decoding (ffmpeg's framecrc listing of a stream copy): the
exact length of picture and sound, keyframes and their decoding times, AAC priming; what the
stitcher decides with. One ffmpeg run reads every clip of a cut (inspect_all).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StitchError
from storyboard.media.ffmpeg import MediaInfo, failure, ffmpeg_exe, parse_media


@dataclass(frozen=True)
class VideoTrack:
    """The packets of a file's first video stream, read without decoding (exact lengths)."""

    path: Path
    codec: str
    timebase: tuple[int, int]
    extradata: str  # size and CRC of the codec's extradata (SPS/PPS for H.264)
    pts: tuple[int, ...]  # in timebase units, file order
    durations: tuple[int, ...]
    keyframes: tuple[int, ...]  # pts of the keyframes
    keyframe_dts: tuple[int, ...] = ()  # their decoding timestamps, in the same order

    @property
    def frames(self) -> int:
        return len(self.pts)

    @property
    def start(self) -> float:
        return min(self.pts) * self.timebase[0] / self.timebase[1] if self.pts else 0.0

    @property
    def length(self) -> float:
        """Seconds from the first frame shown to the end of the last one."""
        if not self.pts:
            return 0.0
        end = max(p + d for p, d in zip(self.pts, self.durations, strict=True))
        return (end - min(self.pts)) * self.timebase[0] / self.timebase[1]


@dataclass(frozen=True)
class AudioTrack:
    """The packets of a file's first audio stream (read without decoding)."""

    codec: str
    timebase: tuple[int, int]
    extradata: str  # size and CRC of the codec's extradata (AudioSpecificConfig for AAC)
    first: int  # pts of the first packet (negative: encoder priming, skipped on decoding)
    end: int  # pts where the last packet ends
    packets: int
    # Packets not as long as the first (e.g. the last, trimmed by skip-samples side data
    # that no copy into MP4 keeps mid-film).
    uneven: int = 0
    frame: int = 0  # duration of the first packet (an AAC frame: 1024 samples)

    @property
    def whole_priming(self) -> bool:
        """The sound heard starts on a packet: the priming (if any) is whole packets, so a
        copy that drops it drops nothing that is heard (2112 samples of priming, as some
        encoders write, is not 1024-sample frames)."""
        return self.first >= 0 or (self.frame > 0 and -self.first % self.frame == 0)

    @property
    def start(self) -> float:
        """Seconds where the sound that is heard starts (priming is not heard)."""
        return max(self.first, 0) * self.timebase[0] / self.timebase[1]

    @property
    def length(self) -> float:
        """Seconds of sound heard, from its start to the end of the last packet."""
        return (self.end - max(self.first, 0)) * self.timebase[0] / self.timebase[1]


@dataclass(frozen=True)
class Inspection:
    info: MediaInfo
    video: VideoTrack | None
    audio: AudioTrack | None


_PACKET = re.compile(r"^\s*(\d+),\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*\d+,\s*0x[0-9a-f]+(.*)$")


def _parse_packets(path: Path, text: str) -> tuple[VideoTrack | None, AudioTrack | None]:
    """The first video and audio streams of a framecrc listing (streams as mapped)."""
    header: dict[str, dict[int, str]] = {}
    pkts: dict[int, tuple[list[int], list[int], list[tuple[int, int]]]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            name, _, idx = key.strip().partition(" ")
            if idx.strip().isdigit():
                header.setdefault(name, {})[int(idx)] = " ".join(value.split())
            continue
        m = _PACKET.match(line)
        if not m:
            continue
        pts, durs, keys = pkts.setdefault(int(m.group(1)), ([], [], []))
        p = int(m.group(3))
        pts.append(p)
        durs.append(int(m.group(4)))
        if "F=" not in m.group(5):  # framecrc flags every packet that is not a plain keyframe
            keys.append((p, int(m.group(2))))
    kinds = header.get("media_type", {})

    def tb(i: int) -> tuple[int, int]:
        num, _, den = header.get("tb", {}).get(i, "1/1").partition("/")
        return int(num), int(den)

    video = audio = None
    for i in sorted(kinds):
        codec = header.get("codec_id", {}).get(i, "")
        extradata = header.get("extradata", {}).get(i, "")
        pts, durs, keys = pkts.get(i, ([], [], []))
        if kinds[i] == "video" and video is None:
            keys.sort()
            video = VideoTrack(
                path=path,
                codec=codec,
                timebase=tb(i),
                extradata=extradata,
                pts=tuple(pts),
                durations=tuple(durs),
                keyframes=tuple(k for k, _ in keys),
                keyframe_dts=tuple(d for _, d in keys),
            )
        elif kinds[i] == "audio" and audio is None and pts:
            audio = AudioTrack(
                codec=codec,
                timebase=tb(i),
                extradata=extradata,
                first=min(pts),
                end=max(p + d for p, d in zip(pts, durs, strict=True)),
                packets=len(pts),
                uneven=sum(d != durs[0] for d in durs),
                frame=durs[0],
            )
    return video, audio


def inspect_file(path: Path, timeout: float | None = 60) -> Inspection:
    """What one file holds and its first video and audio streams' packets."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    cmd += ["-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy", "-f", "framecrc", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise StitchError(f"{path.name}: reading the packets took too long") from e
    info = parse_media(path, proc.stderr)
    if info.video is not None and proc.returncode != 0:
        raise StitchError(f"{path.name}: its video stream cannot be read")
    video, audio = _parse_packets(path, proc.stdout) if proc.returncode == 0 else (None, None)
    return Inspection(info=info, video=video if info.video else None, audio=audio)


def _input_sections(err: str, n: int) -> list[str] | None:
    """ffmpeg's description of each of n inputs, renumbered as if it were input #0."""
    starts = [m.start() for m in re.finditer(r"^Input #\d+, ", err, re.M)]
    if len(starts) != n:
        return None
    end = re.search(r"^(Stream mapping:|Output #)", err[starts[-1] :], re.M)
    bounds = [*starts, starts[-1] + (end.start() if end else len(err) - starts[-1])]
    out = []
    for k in range(n):
        text = err[bounds[k] : bounds[k + 1]]
        text = re.sub(rf"^Input #{k},", "Input #0,", text)
        out.append(re.sub(rf"Stream #{k}:", "Stream #0:", text))
    return out


def inspect_all(
    paths: Sequence[Path], *, timeout: float | None = 120, work: Path | None = None
) -> list[Inspection] | None:
    """What each file holds and its first video and audio streams' packets, for all files
    in one ffmpeg run (stream copy into one framecrc listing per file: no decoding); one
    process instead of one per file.

    None when that run fails (a file missing or damaged): then read each with
    inspect_file() to learn which. `work`: the folder for its scratch files (default: the
    system's temp folder).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return []
    with tempfile.TemporaryDirectory(prefix="storyboard-inspect-", dir=work) as tmp:
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin"]
        for path in paths:
            cmd += ["-i", str(path)]
        lists = [Path(tmp) / f"{k}.crc" for k in range(len(paths))]
        for k, out in enumerate(lists):
            cmd += ["-map", f"{k}:v:0?", "-map", f"{k}:a:0?", "-c", "copy", "-f", "framecrc", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise StitchError("reading the clips' packets took too long") from e
        sections = _input_sections(proc.stderr, len(paths)) if proc.returncode == 0 else None
        if sections is not None:
            found = []
            for path, text, out in zip(paths, sections, lists, strict=True):
                info = parse_media(path, text)
                video, audio = _parse_packets(path, out.read_text(errors="replace"))
                found.append(Inspection(info=info, video=video if info.video else None, audio=audio))
            return found
    return None


_X264 = re.compile(rb"x264 - core (\d+)[^\x00]*? - options: ([^\x00]*)")


def x264_options(path: Path, *, limit: int = 4 << 20) -> dict[str, str] | None:
    """The options x264 wrote into the stream (SEI user data of the first frame), as
    {name: value}; None when the file does not say it was made by x264."""
    with open(path, "rb") as f:
        head = f.read(limit)
    m = _X264.search(head)
    if not m:
        return None
    out = {"core": m.group(1).decode()}
    for item in m.group(2).decode("latin-1").split():
        key, sep, value = item.partition("=")
        if sep:
            out[key] = value
    return out


def extract_audio(pairs: Sequence[tuple[Path, Path]], *, timeout: float | None = 120) -> None:
    """Copy the first sound stream of each (clip, out) into its own MP4, in one ffmpeg run
    (no decoding)."""
    if not pairs:
        return
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
    for clip, _ in pairs:
        cmd += ["-i", str(clip)]
    for k, (_, out) in enumerate(pairs):
        cmd += ["-map", f"{k}:a:0", "-c", "copy", "-f", "mp4", str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise StitchError("copying the clips' sound took too long") from e
    if proc.returncode != 0:
        writes = [out.parent for _, out in pairs]
        raise failure("copying the clips' sound failed", proc.returncode, proc.stderr, writes)


def inspect(path: Path, *, timeout: float | None = 60) -> tuple[MediaInfo, VideoTrack | None]:
    """probe() and the first video stream's packets (`-f framecrc`, stream copy: no
    decoding) in one ffmpeg run. The track is None when the file has no video."""
    got = inspect_file(Path(path), timeout)
    return got.info, got.video


def video_track(path: Path) -> VideoTrack:
    """The first video stream's packets; StitchError when there is none."""
    info, track = inspect(path)
    if track is None:
        raise StitchError(f"{info.path.name} has no video stream")
    return track
