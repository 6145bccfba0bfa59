"""The results page in headless Chromium, end to end on the real server and pipeline.

`highlights serve` runs in a subprocess (local runner, temp SQLite and store). The
browser logs in with the token link, uploads a generated lecture through the form,
watches live progress until the job completes, plays a clip and checks that a subtitle
cue becomes active, uses the transcript filter and the topic bar, and saves a screenshot
to the artifacts folder (HIGHLIGHTS_TEST_ARTIFACTS, default test-artifacts/).

Needs Debian's `chromium` package (/usr/bin/chromium); Playwright drives it directly,
no `playwright install`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.api_helpers import AUTH, REPO, TOKEN, api_environment, live_server

CHROMIUM = Path("/usr/bin/chromium")
LECTURE = REPO / "tests" / "fixtures" / "lectures" / "screen.mp4"
# A seek waits for the browser to fetch the lecture around the new time; on two busy cores
# (the suite runs pipelines beside this test) that has taken over 30 s.
SEEK_TIMEOUT_MS = 90_000
ARTIFACTS = Path(os.environ.get("HIGHLIGHTS_TEST_ARTIFACTS", REPO / "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
JOB_TIMEOUT_SECONDS = 420

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless browser test needs Chromium: apt-get install -y chromium",
    ),
]


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path):
    env = {
        **api_environment(tmp_path, sqlite_template),
        # The 112-s fixture lecture has short topics: allow short clips.
        "HIGHLIGHTS_CLIP_MIN_SECONDS": "10",
        "HIGHLIGHTS_CLIP_MAX_SECONDS": "40",
    }
    with live_server(env, tmp_path / "server") as live:
        yield live


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on(
                "response",
                lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.js_errors = errors  # type: ignore[attr-defined]
            yield page
        finally:
            browser.close()


def test_upload_watch_progress_play_a_clip_with_subtitles(server, page) -> None:
    assert LECTURE.exists(), f"missing fixture lecture {LECTURE}"
    page.set_default_timeout(30_000)

    # Not logged in: the login form. The token link logs in and drops the token from the URL.
    page.goto(server.url + "/")
    assert page.locator("form[action='/login']").is_visible()
    page.goto(f"{server.url}/?token={TOKEN}")
    assert page.url == server.url + "/"
    page.wait_for_selector("#upload-form")

    page.set_input_files("#upload-file", str(LECTURE))
    page.locator("summary").click()
    page.fill("#opt-clips", "2")
    page.click("#upload-button")
    page.wait_for_url("**/#job=*", timeout=60_000)
    job_id = page.url.split("#job=")[1]

    # Live progress: the page polls, so the text changes while the job runs.
    seen_progress: set[str] = set()
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    status = ""
    while time.monotonic() < deadline:
        status = page.locator("#job-status").inner_text()
        seen_progress.add(page.locator("#job-progress-text").inner_text())
        if status in ("completed", "failed"):
            break
        time.sleep(1)
    log = httpx.get(f"{server.url}/jobs/{job_id}/timeline", headers=AUTH).json()
    assert status == "completed", (
        status,
        page.locator("#job-error").inner_text(),
        log,
        server.log(),
    )
    running = [text for text in seen_progress if "%" in text and not text.startswith("100%")]
    assert running, f"never saw progress below 100%: {seen_progress}"

    # Clips: playable <video> elements with posters and a default subtitle track.
    page.wait_for_selector(".clip video")
    clips = httpx.get(f"{server.url}/jobs/{job_id}/clips", headers=AUTH).json()["items"]
    assert len(clips) >= 1
    assert page.locator(".clip video").count() == len(clips)
    assert page.locator(".clip h3").first.inner_text() == f"#1 {clips[0]['title']}"
    first = page.locator(".clip video").first
    assert first.get_attribute("poster").split("?")[0] == clips[0]["thumbnail_url"].split("?")[0]
    assert first.locator("track").get_attribute("kind") == "subtitles"

    # Play the first clip and wait until a subtitle cue is active on screen.
    page.evaluate("""() => {
        const v = document.querySelector('.clip video');
        v.muted = true;
        return v.play();
    }""")
    page.wait_for_function(
        """() => {
        const v = document.querySelector('.clip video');
        const t = v.textTracks[0];
        return t && t.mode === 'showing' && t.activeCues && t.activeCues.length > 0;
    }""",
        timeout=60_000,
    )
    cue = page.evaluate(
        "() => document.querySelector('.clip video').textTracks[0].activeCues[0].text"
    )
    played = page.evaluate("() => document.querySelector('.clip video').currentTime")
    assert cue.strip() and played > 0

    # Topic segments on the timeline bar, one block per segment.
    segments = httpx.get(f"{server.url}/jobs/{job_id}/segments", headers=AUTH).json()["items"]
    assert page.locator("#topic-bar .topic").count() == len(segments) >= 1

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Transcript: the filter keeps only matching lines; a click seeks the lecture player.
    transcript = httpx.get(f"{server.url}/jobs/{job_id}/transcript", headers=AUTH).json()
    word = max(transcript["text"].split(), key=len).strip(".,;:!?").lower()
    expected = sum(word in line["text"].lower() for line in transcript["segments"])
    total = page.locator("#transcript li").count()
    assert total == len(transcript["segments"])
    page.fill("#transcript-filter", word)
    assert page.locator("#transcript li").count() == expected < total
    assert page.locator("#transcript mark").first.inner_text().lower() == word
    line = transcript["segments"][
        [word in s["text"].lower() for s in transcript["segments"]].index(True)
    ]
    page.locator("#transcript li .line-text").first.click()
    page.wait_for_function(
        "(t) => Math.abs(document.getElementById('lecture-player').currentTime - t) < 1.0",
        arg=line["start_time"],
        timeout=SEEK_TIMEOUT_MS,
    )
    page.fill("#transcript-filter", "")

    # A word only on a slide ("Filling the table"), never spoken: the search box finds it
    # at that slide, and a click jumps the lecture player there.
    hits = httpx.get(f"{server.url}/jobs/{job_id}/search", params={"q": "filling"},
                     headers=AUTH).json()["hits"]
    slide_hits = [h for h in hits if h["source"] == "slide"]
    assert slide_hits and "filling" in slide_hits[0]["text"].lower(), hits
    assert slide_hits[0]["start_time"] > 5.0
    page.fill("#transcript-filter", "filling")
    page.wait_for_selector("#slide-hits li .badge.slide")
    assert "filling" in page.locator("#slide-hits li .line-text").first.inner_text().lower()
    page.locator("#slide-hits li .line-text").first.click()
    page.wait_for_function(
        "(t) => Math.abs(document.getElementById('lecture-player').currentTime - t) < 1.0",
        arg=slide_hits[0]["start_time"],
        timeout=SEEK_TIMEOUT_MS,
    )
    page.screenshot(path=str(ARTIFACTS / "slide-search.png"), full_page=False)
    page.fill("#transcript-filter", "")

    # Processing timeline rows for every stage.
    stages = page.locator("#timeline-body tr td:nth-child(2)").all_inner_texts()
    assert {"uploading", "transcription", "compilation", "complete"} <= set(stages)

    page.evaluate("() => document.querySelector('.clip video').pause()")
    shot = ARTIFACTS / "results-page.png"
    page.screenshot(path=str(shot), full_page=True)
    page.goto(server.url + "/#")
    page.wait_for_selector(f"tr[data-job-id='{job_id}']")
    page.screenshot(path=str(ARTIFACTS / "job-list.png"), full_page=True)
    assert shot.stat().st_size > 10_000
    assert not page.js_errors, page.js_errors  # type: ignore[attr-defined]
