"""The one real-browser test of the planner app: start it with ``start-sim app``, open it in
headless Chromium (Selenium), run a small scenario on the *Savings and who pays* page and check
that the bottom line appears; a screenshot is saved in pytest's tmp folder."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.app_scenario import TINY

INSTALL = ("no browser for the app's browser test: install Chromium and its driver "
           "(Debian/Ubuntu: apt-get install chromium chromium-driver; `.ci/run` does it in CI)")


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip(INSTALL)
    return chromium, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"start-sim app exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("start-sim app did not answer within 60 s")


def test_run_a_scenario_in_a_real_browser(tmp_path):
    chromium, driver = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    port = _free_port()
    url = f"http://localhost:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "start_sim.cli", "app", str(scenario), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    browser = None
    try:
        _wait_healthy(url, proc)
        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1400,1100"):
            opts.add_argument(arg)
        browser = webdriver.Chrome(service=Service(driver), options=opts)
        browser.get(f"{url}/savings")
        wait = WebDriverWait(browser, 45)
        run = wait.until(ec.element_to_be_clickable((By.XPATH, "//button[.//p[text()='Run the scenario']]")))
        run.click()
        line = wait.until(ec.presence_of_element_located(
            (By.XPATH, "//*[@data-testid='stAlertContentInfo'][contains(., 'With 2 dyads, ')]")))
        assert "simulation noise only" in line.text
        wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(text(), 'P(net savings > 0)')]")))
        time.sleep(1)  # let the table and download buttons finish drawing
        shot = tmp_path / "savings_page.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
    finally:
        if browser is not None:
            browser.quit()
        os.killpg(proc.pid, signal.SIGTERM)  # the app and anything it started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
