"""H.264 parameter sets as an MP4 stores them (the avcC decoder configuration record), and the
ids that tie slices to them. Enough to let pictures of two encoders share one sample entry:
each encoder's SPS/PPS under ids of its own, all listed in one avcC.

An avcC (ISO/IEC 14496-15, 5.3.3.1): version 1, profile, compatibility, level, 6 bits of 1s
and lengthSizeMinusOne, 3 bits of 1s and the SPS count, each SPS (16-bit size + NAL), the PPS
count, each PPS, and for the High profiles a trailer (chroma format, bit depths, SPS-ext).
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.errors import StitchError


def _rbsp(nal: bytes) -> bytes:
    """The NAL's payload without emulation-prevention bytes (00 00 03 -> 00 00)."""
    out = bytearray()
    zeros = 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bit(self) -> int:
        i = self.pos >> 3
        if i >= len(self.data):
            raise StitchError("an H.264 parameter set ends too early")
        b = (self.data[i] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return b

    def bits(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bit()
        return v

    def ue(self) -> int:
        """Exp-Golomb unsigned (ue(v))."""
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise StitchError("an H.264 parameter set is malformed")
        return (1 << zeros) - 1 + self.bits(zeros)


def sps_id(nal: bytes) -> int:
    """seq_parameter_set_id of an SPS NAL unit (after profile, constraints and level)."""
    bits = _Bits(_rbsp(nal[1:]))
    bits.bits(24)
    return bits.ue()


def pps_ids(nal: bytes) -> tuple[int, int]:
    """(pic_parameter_set_id, seq_parameter_set_id) of a PPS NAL unit."""
    bits = _Bits(_rbsp(nal[1:]))
    return bits.ue(), bits.ue()


@dataclass(frozen=True)
class AvcConfig:
    profile: int
    compatibility: int
    level: int
    length_size: int  # bytes of each NAL unit's length prefix in the samples (usually 4)
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    trailer: bytes = b""  # what follows the PPS (High profiles: chroma format, bit depths...)

    @classmethod
    def parse(cls, data: bytes) -> AvcConfig:
        try:
            if data[0] != 1:
                raise StitchError("not an avcC record (version is not 1)")
            pos = 6
            sps = []
            for _ in range(data[5] & 0x1F):
                n = int.from_bytes(data[pos : pos + 2], "big")
                sps.append(data[pos + 2 : pos + 2 + n])
                pos += 2 + n
            pps = []
            count = data[pos]
            pos += 1
            for _ in range(count):
                n = int.from_bytes(data[pos : pos + 2], "big")
                pps.append(data[pos + 2 : pos + 2 + n])
                pos += 2 + n
        except IndexError:
            raise StitchError("an avcC record ends too early") from None
        return cls(
            profile=data[1],
            compatibility=data[2],
            level=data[3],
            length_size=(data[4] & 3) + 1,
            sps=tuple(sps),
            pps=tuple(pps),
            trailer=data[pos:],
        )

    def build(self) -> bytes:
        out = bytearray([1, self.profile, self.compatibility, self.level, 0xFC | (self.length_size - 1)])
        out.append(0xE0 | len(self.sps))
        for nal in self.sps:
            out += len(nal).to_bytes(2, "big") + nal
        out.append(len(self.pps))
        for nal in self.pps:
            out += len(nal).to_bytes(2, "big") + nal
        return bytes(out + self.trailer)

    @property
    def sps_ids(self) -> set[int]:
        return {sps_id(n) for n in self.sps}

    @property
    def pps_ids(self) -> set[int]:
        return {pps_ids(n)[0] for n in self.pps}

    def merged(self, other: AvcConfig) -> AvcConfig:
        """This record with `other`'s parameter sets added; StitchError when an id would mean
        two different sets (slices name their PPS by id) or the samples' framing differs."""
        if other.length_size != self.length_size:
            raise StitchError(
                f"NAL length prefixes of {other.length_size} and {self.length_size} bytes in one track"
            )
        sps = list(self.sps)
        for nal in other.sps:
            same = [s for s in sps if sps_id(s) == sps_id(nal)]
            if same and same[0] != nal:
                raise StitchError(f"two different SPS with id {sps_id(nal)}")
            if not same:
                sps.append(nal)
        pps = list(self.pps)
        for nal in other.pps:
            same = [p for p in pps if pps_ids(p)[0] == pps_ids(nal)[0]]
            if same and same[0] != nal:
                raise StitchError(f"two different PPS with id {pps_ids(nal)[0]}")
            if not same:
                pps.append(nal)
        if len(sps) > 31:
            raise StitchError("more than 31 SPS")
        return AvcConfig(
            self.profile,
            self.compatibility,
            self.level,
            self.length_size,
            tuple(sps),
            tuple(pps),
            self.trailer,
        )


def nal_types(sample: bytes, length_size: int = 4) -> list[int]:
    """nal_unit_type of each NAL unit in an MP4 sample (length-prefixed)."""
    out = []
    pos = 0
    while pos + length_size <= len(sample):
        n = int.from_bytes(sample[pos : pos + length_size], "big")
        pos += length_size
        if n == 0 or pos + n > len(sample):
            break
        out.append(sample[pos] & 0x1F)
        pos += n
    return out
