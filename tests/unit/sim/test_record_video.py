"""``--record``: a tiny recorded simulation gives PNG frames and a playable ``video.mp4``.

The MP4 is probed with ``ffprobe`` (codec, pixel format, decoded frame count, duration): the
video must hold exactly the frames this run captured, also when the run folder is reused and
still holds a longer earlier run's frames. Skipped where ffmpeg is not installed (it is an
optional tool, not a dependency); without it the run must still succeed with frames only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bulletyard.runtime.sim_setup import SimOptions, Simulation


def record(out: Path, until_s: float) -> dict:
    sim = Simulation(SimOptions(layout="small-fc", robots=2, orders=2, rate_per_h=3600.0, out=out,
                                until_s=until_s, record=True, record_every_s=1.0))
    with sim:
        return sim.run().summary["recording"]


def probe(video: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
         "stream=codec_name,pix_fmt,width,height,nb_read_frames,duration", "-of", "json", str(video)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)["streams"][0]


@pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                    reason="ffmpeg/ffprobe not installed: --record then writes PNG frames only")
def test_recorded_run_writes_a_playable_mp4_of_its_own_frames(tmp_path: Path) -> None:
    long_run = record(tmp_path, until_s=8.0)
    assert long_run["frames"] == 9  # t = 0, 1, ..., 8 s
    rec = record(tmp_path, until_s=3.0)  # same folder: the earlier frames must not leak in
    assert rec["frames"] == 4
    assert rec["video_error"] is None
    video = Path(rec["video"])
    assert video == tmp_path / "video.mp4"
    stream = probe(video)
    assert stream["codec_name"] in ("h264", "mpeg4")
    assert stream["pix_fmt"] == "yuv420p"
    assert (stream["width"], stream["height"]) == (640, 400)
    assert int(stream["nb_read_frames"]) == 4
    assert float(stream["duration"]) == pytest.approx(0.4, abs=0.05)  # 4 frames at 10 fps
    assert len(list((tmp_path / "frames").glob("frame_*.png"))) == 4


def test_recording_without_ffmpeg_keeps_frames_and_says_why(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    rec = record(tmp_path, until_s=1.0)
    assert rec["frames"] == 2
    assert rec["video"] is None
    assert "ffmpeg not found" in rec["video_error"]
    assert not (tmp_path / "video.mp4").exists()
