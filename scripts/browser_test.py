#!/usr/bin/python3
"""Drives the page of `srgan-dist serve` in a real headless Chromium, as a user would.

Run by Tests/CLITests/ServeTests.swift against a server it started (or by hand, the same way):

    /usr/bin/python3 scripts/browser_test.py --url http://127.0.0.1:8080/ --image in.png \
        --width 40 --height 30 --scale 4 --downloads /tmp/dl [--bad-file photo.jpg] [--large-file big.png] [--screenshot page.png]

Steps: choose --image in the file picker, press Upscale, wait until both result images are shown
at scale x the input's size, check that the zoom buttons and slider resize both panels alike and
that the two panels scroll together, download the model's result and check it is a PNG of the
right size; with --bad-file (not a PNG) and --large-file (above the upload limit), upload them and
check the page shows the server's message.
Prints 'browser test passed' and exits 0, or prints what failed and exits 1.

Needs Debian's chromium, chromium-driver and python3-selenium (Debian's /usr/bin/python3).
"""

import argparse
import os
import shutil
import struct
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def fail(message):
    print(f"browser test FAILED: {message}", flush=True)
    sys.exit(1)


def png_size(path):
    """(width, height) from a PNG file's IHDR chunk, or None when it is not a PNG."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def start_browser(downloads, chromium, chromedriver, profile):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--no-first-run", "--no-default-browser-check",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": downloads,
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def displayed_width(driver, element_id):
    return driver.execute_script(f"return document.getElementById('{element_id}').getBoundingClientRect().width;")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--image", required=True, help="a PNG to upload")
    parser.add_argument("--width", type=int, required=True, help="the PNG's width")
    parser.add_argument("--height", type=int, required=True, help="the PNG's height")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--downloads", required=True, help="an empty folder for the download")
    parser.add_argument("--bad-file", help="a file that is not a PNG, to check the error message")
    parser.add_argument("--large-file", help="a file above the server's --max-upload-mb, to check the error message")
    parser.add_argument("--screenshot", help="save a screenshot of the page with results here")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each step")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    os.makedirs(args.downloads, exist_ok=True)
    out_width, out_height = args.width * args.scale, args.height * args.scale

    profile = tempfile.mkdtemp(prefix="srgan-serve-chromium-")
    try:
        driver = start_browser(os.path.abspath(args.downloads), args.chromium, args.chromedriver, profile)
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        driver.get(args.url)
        wait = WebDriverWait(driver, args.timeout)

        # Upload: choose the file, press the button, wait for both images at the HR size.
        driver.find_element(By.ID, "file").send_keys(os.path.abspath(args.image))
        driver.find_element(By.ID, "go").click()
        shown = ("const b = document.getElementById('bicubic'), m = document.getElementById('model');"
                 "const e = document.getElementById('error');"
                 "if (!e.hidden) return 'error: ' + e.textContent;"
                 f"return !b.hidden && !m.hidden && b.naturalWidth === {out_width} && m.naturalWidth === {out_width}"
                 f" && b.naturalHeight === {out_height} && m.naturalHeight === {out_height} && b.complete && m.complete;")
        try:
            outcome = wait.until(lambda d: d.execute_script(shown))
        except TimeoutException:
            fail(f"the two results did not appear at {out_width}x{out_height} within {args.timeout} s "
                 f"(status: {driver.find_element(By.ID, 'status').text!r})")
        if isinstance(outcome, str):
            fail(f"the page showed an error after a good upload: {outcome}")
        print(f"both results shown at {out_width}x{out_height}", flush=True)

        # Zoom: the buttons and the slider resize both panels alike, pixelated.
        rendering = driver.execute_script("return getComputedStyle(document.getElementById('model')).imageRendering;")
        if rendering != "pixelated":
            fail(f"the results are drawn with image-rendering {rendering!r}, not pixelated")
        before = displayed_width(driver, "model")
        if abs(before - out_width) > 0.5:
            fail(f"at zoom 1 the model's result is {before} px wide, not {out_width}")
        driver.find_element(By.ID, "zoom-in").click()
        after = displayed_width(driver, "model"), displayed_width(driver, "bicubic")
        if abs(after[0] - 2 * before) > 0.5 or abs(after[1] - after[0]) > 0.5:
            fail(f"zoom in: widths {after} (model, bicubic), wanted both {2 * before}")
        driver.execute_script("const z = document.getElementById('zoom'); z.value = 8;"
                              "z.dispatchEvent(new Event('input', {bubbles: true}));")
        widest = displayed_width(driver, "model"), displayed_width(driver, "bicubic")
        if abs(widest[0] - 8 * before) > 0.5 or abs(widest[1] - widest[0]) > 0.5:
            fail(f"zoom slider at 8: widths {widest}, wanted both {8 * before}")
        print(f"zoom: {before:.0f} px -> {after[0]:.0f} px (button) -> {widest[0]:.0f} px (slider), both panels", flush=True)

        # The two panels scroll together.
        driver.execute_script("const v = document.getElementById('bicubic-view'); v.scrollLeft = 37; v.scrollTop = 23;")
        try:
            WebDriverWait(driver, 10).until(lambda d: d.execute_script(
                "const v = document.getElementById('model-view'); return v.scrollLeft === 37 && v.scrollTop === 23;"))
        except TimeoutException:
            fail("scrolling the bicubic panel did not scroll the model panel with it")
        print("the two panels scroll together", flush=True)

        driver.execute_script("const z = document.getElementById('zoom'); z.value = 2;"
                              "z.dispatchEvent(new Event('input', {bubbles: true}));"
                              "document.getElementById('bicubic-view').scrollTo(0, 0);")
        if args.screenshot:
            time.sleep(0.3)
            driver.save_screenshot(args.screenshot)

        # Download: a real file, a PNG of the HR size.
        link = driver.find_element(By.ID, "download")
        if not link.is_displayed() or not link.get_attribute("download"):
            fail("the download link is missing or has no download attribute")
        name = link.get_attribute("download")
        link.click()
        target = os.path.join(args.downloads, name)
        deadline = time.time() + args.timeout
        while time.time() < deadline and not (os.path.exists(target) and png_size(target)):
            time.sleep(0.2)
        size = png_size(target) if os.path.exists(target) else None
        if size != (out_width, out_height):
            fail(f"the download {target} is {'missing' if size is None else size}, wanted a PNG of {out_width}x{out_height} "
                 f"(folder holds {sorted(os.listdir(args.downloads))})")
        print(f"downloaded {name}: PNG {size[0]}x{size[1]}", flush=True)

        # Bad uploads: the server's message is shown on the page.
        for path, expected in ((args.bad_file, "not a PNG"), (args.large_file, "larger than")):
            if not path:
                continue
            driver.execute_script("document.getElementById('error').hidden = true;")
            driver.find_element(By.ID, "file").send_keys(os.path.abspath(path))
            driver.find_element(By.ID, "go").click()
            try:
                message = wait.until(lambda d: d.execute_script(
                    "const e = document.getElementById('error'); return !e.hidden && e.textContent;"))
            except TimeoutException:
                fail(f"uploading {path} showed no error message")
            if expected not in message:
                fail(f"uploading {path}: the message {message!r} does not say {expected!r}")
            print(f"uploading {os.path.basename(path)} shows: {message}", flush=True)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print("browser test passed", flush=True)


if __name__ == "__main__":
    main()
