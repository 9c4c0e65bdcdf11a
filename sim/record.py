"""Headless pictures: PNG frames from PyBullet's TinyRenderer, and an MP4 via ffmpeg when present.

TinyRenderer is PyBullet's software rasteriser: it works in ``p.DIRECT`` mode with no display and
no GPU, so ``--record`` and ``bulletyard snapshot`` run on a bare server or in CI. The PNG encoder
is a few lines of ``zlib`` (no imaging dependency). The camera looks down on the whole layout
from the south-east at a steep angle, which keeps every aisle visible while showing height.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pybullet as p

from sim.world import World


def write_png(path: Path | str, rgb: np.ndarray) -> None:
    """Write an ``(height, width, 3)`` uint8 array as an 8-bit RGB PNG."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    raw = b"".join(b"\x00" + rgb[row].tobytes() for row in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def camera_matrices(world: World, width_px: int, height_px: int) -> tuple[list[float], list[float]]:
    """View and projection matrices framing the whole scene."""
    x0, y0, x1, y1 = world.extent_m()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    span = max(x1 - x0, (y1 - y0) * width_px / height_px)
    fov_deg = 40.0
    distance = 0.55 * span / math.tan(math.radians(fov_deg / 2)) * height_px / width_px + 2.0
    view = p.computeViewMatrixFromYawPitchRoll(
        cameraTargetPosition=[cx, cy, 0.0],
        distance=distance,
        yaw=0.0,
        pitch=-75.0,
        roll=0.0,
        upAxisIndex=2,
        physicsClientId=world.client,
    )
    proj = p.computeProjectionMatrixFOV(
        fov=fov_deg,
        aspect=width_px / height_px,
        nearVal=0.5,
        farVal=distance * 3,
        physicsClientId=world.client,
    )
    return list(view), list(proj)


def render(world: World, width_px: int = 960, height_px: int = 600) -> np.ndarray:
    """One RGB frame of the scene as it is now (TinyRenderer, works without a display)."""
    view, proj = camera_matrices(world, width_px, height_px)
    _, _, rgba, _, _ = p.getCameraImage(
        width_px,
        height_px,
        viewMatrix=view,
        projectionMatrix=proj,
        renderer=p.ER_TINY_RENDERER,
        shadow=0,
        physicsClientId=world.client,
    )
    return np.reshape(np.asarray(rgba, dtype=np.uint8), (height_px, width_px, 4))[:, :, :3]


class FrameRecorder:
    """Writes ``frames/frame_00000.png``... at a fixed simulated interval; :meth:`finish` makes an MP4.

    Args:
        world: the scene to render.
        out_dir: run directory; frames go to ``out_dir/frames``.
        every_s: simulated seconds between frames.
    """

    def __init__(
        self,
        world: World,
        out_dir: Path | str,
        every_s: float = 1.0,
        width_px: int = 640,
        height_px: int = 400,
    ) -> None:
        self.world = world
        self.frames_dir = Path(out_dir) / "frames"
        self.frames_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.frames_dir.glob("frame_*.png"):  # a reused run folder (runs/latest)
            stale.unlink()  # would otherwise end up in this run's video after its own frames
        self.every_s = every_s
        self.size = (width_px, height_px)
        self.count = 0
        self.video_error: str | None = None
        self._next_t_s = 0.0

    def due(self, t_s: float) -> bool:
        """Whether :meth:`maybe_capture` at ``t_s`` would capture (to draw the scene marks first)."""
        return t_s + 1e-9 >= self._next_t_s

    def maybe_capture(self, t_s: float) -> bool:
        """Capture a frame when ``t_s`` reached the next frame time."""
        if not self.due(t_s):
            return False
        write_png(self.frames_dir / f"frame_{self.count:05d}.png", render(self.world, *self.size))
        self.count += 1
        self._next_t_s = t_s + self.every_s
        return True

    def finish(self, fps: int = 10) -> Path | None:
        """Encode ``video.mp4`` (H.264, yuv420p, fast start) with ffmpeg when it is installed.

        Returns the path, or None (the PNG frames stay) when ffmpeg is absent, nothing was
        captured or encoding failed; :attr:`video_error` then says why. Exactly this run's
        :attr:`count` frames are encoded, at ``fps`` frames per second of video. An ffmpeg built
        without libx264 falls back to its MPEG-4 Part 2 encoder (still an MP4 players read).
        """
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            self.video_error = "ffmpeg not found on PATH: PNG frames only"
            return None
        if self.count == 0:
            self.video_error = "no frame was captured"
            return None
        out = self.frames_dir.parent / "video.mp4"
        for codec in ("libx264", "mpeg4"):
            cmd = [
                ffmpeg, "-y", "-loglevel", "error",
                "-framerate", str(fps),
                "-i", str(self.frames_dir / "frame_%05d.png"),
                "-frames:v", str(self.count),
                "-c:v", codec,
                "-pix_fmt", "yuv420p",
                "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
                "-movflags", "+faststart",
                str(out),
            ]
            result = subprocess.run(cmd, check=False, capture_output=True)
            if result.returncode == 0:
                self.video_error = None
                return out
            detail = result.stderr.decode(errors="replace").strip()[-300:]
            self.video_error = f"ffmpeg ({codec}) failed: {detail}"
        return None
