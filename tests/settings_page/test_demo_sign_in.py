"""`vorhoelle demo --keep` prints the settings page's address and a sign-in that works."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

import httpx


def test_the_demo_prints_a_settings_page_and_a_sign_in_that_works(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot", "demo", "--fast", "--keep"], capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    group = re.search(r"kill -TERM -(\d+)", done.stdout)
    try:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        gitlab = re.search(r"GitLab \(sandbox\)\s+(\S+)/api/v4\s+administrator token (\S+)", done.stdout)
        page = re.search(r"settings page\s+(\S+/settings)\s.*\n\s+root \+ (\S+) \(may change\)", done.stdout)
        assert gitlab and page, done.stdout[-2000:]
        assert page.group(2) == gitlab.group(2)
        with httpx.Client(follow_redirects=True, timeout=30) as browser:
            signed = browser.post(f"{gitlab.group(1)}/users/sign_in", data={"username": "root", "token": page.group(2)},
                                  follow_redirects=False)
            assert signed.status_code == 302
            answer = browser.get(f"{page.group(1)}/login")
        assert answer.url.path == "/settings"
        assert "Preview the change" in answer.text
    finally:
        if group:
            os.killpg(int(group.group(1)), signal.SIGTERM)
        workdir = re.search(r"logs and outbox in (\S+)", done.stdout)
        if workdir:
            shutil.rmtree(workdir.group(1), ignore_errors=True)
