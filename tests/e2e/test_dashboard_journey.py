"""The dashboard in a real browser, as a new user meets it: first run, an app from a git repository through
the pages, its build log streaming until it is live, then the everyday work — an env var, a new commit, a
rollback, a broken build — and what a viewer and a phone see.

The tests run in order on one platform and one app, each starting where the previous one left off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import PHONE, new_context, screenshot
from tests.platform import Platform, Repo, eventually, fastapi_app

pytestmark = pytest.mark.integration

ADMIN = "admin"
PASSWORD = "correct horse battery"
APP = "hello"
BUILD_TIMEOUT = 420_000  # ms: a first build installs FastAPI from the index
# Collects layout shifts across reloads of a tab, so a test can assert that streaming a log moved nothing.
LAYOUT_SHIFTS = """
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) {
      sessionStorage.setItem("cls", String(Number(sessionStorage.getItem("cls") || 0) + entry.value));
    }
  }
}).observe({ type: "layout-shift", buffered: true });
"""


@dataclass
class Journey:
    """What the tests share: the platform, the app's repository and the administrator's browser tab."""

    platform: Platform
    repo: Repo
    page: Page
    releases: dict[str, int] = field(default_factory=dict)  # commit label → deployment id

    def app_says(self) -> dict[str, str]:
        """What the app answers through the proxy, as a visitor gets it."""
        response = httpx.get(
            f"http://127.0.0.1:{self.platform.http_port}/", headers={"Host": f"{APP}.localhost"}, timeout=10
        )
        response.raise_for_status()
        return dict(response.json())

    def wait_live(self) -> int:
        """Wait on the deployment page until the badge says live; the deployment's id."""
        expect(self.page.locator("#deployment-status")).to_have_text("live", timeout=BUILD_TIMEOUT)
        found = re.search(r"/deployments/(\d+)", self.page.url)
        assert found, self.page.url
        return int(found.group(1))


@pytest.fixture(scope="module")
def journey(
    platform: Platform, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journey]:
    repo = Repo(tmp_path_factory.mktemp("repo"))
    repo.commit(fastapi_app("v1"), "First version")
    context = new_context(browser, platform.api)
    context.add_init_script(LAYOUT_SHIFTS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of rollback and remove
    yield Journey(platform=platform, repo=repo, page=page)
    context.close()


def test_first_run_creates_the_administrator_and_offers_to_connect_github(journey: Journey) -> None:
    page = journey.page
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    screenshot(page, "first-run")
    page.get_by_label("Username").fill(ADMIN)
    page.get_by_label(re.compile(r"^Password(?!, again)")).fill(PASSWORD)
    page.get_by_label("Password, again").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()
    expect(page).to_have_url(re.compile(r"/settings/github"))
    expect(page.get_by_role("status")).to_contain_text("you are the administrator")
    expect(page.get_by_role("link", name=re.compile("Use any git URL"))).to_be_visible()
    screenshot(page, "connect-github")


def test_an_app_from_a_git_repository_shows_its_plan_then_builds_live_while_you_watch(
    journey: Journey,
) -> None:
    page = journey.page
    page.goto("/apps/new?source=url")
    page.get_by_label("Git URL").fill(journey.repo.url)
    page.get_by_label("Branch").fill("main")
    page.get_by_label("App name").fill(APP)
    page.get_by_role("button", name="Detect").click()
    # The plan before anything is built: framework, Python and the web process's command.
    expect(page.get_by_role("heading", name="What the first build will do")).to_be_visible()
    expect(page.locator("main")).to_contain_text("FastAPI")
    expect(page.locator("main")).to_contain_text("3.13")
    screenshot(page, "new-app-plan")
    page.get_by_role("button", name="Create and deploy").click()
    expect(page.get_by_role("heading", name=f"{APP} is created")).to_be_visible()
    expect(page.locator(".secret-once").first).to_contain_text("whsec_")
    screenshot(page, "new-app-created")

    page.evaluate("sessionStorage.setItem('cls', '0')")
    page.get_by_role("link", name="Watch the first build").click()
    log = page.locator("pre.log")
    # Lines arrive while the build runs, phase headers first among them.
    expect(log).to_contain_text("-----> Fetching", timeout=60_000)
    expect(page.locator("#deployment-status")).not_to_have_text("live")
    screenshot(page, "build-log-streaming")
    journey.releases["v1"] = journey.wait_live()
    expect(log).to_contain_text("-----> Built")
    assert float(page.evaluate("sessionStorage.getItem('cls') || '0'")) < 0.01, "the page moved while logging"
    screenshot(page, "build-log-live")

    page.goto(f"/apps/{APP}")
    expect(page.locator("#app-status")).to_contain_text("live")
    screenshot(page, "app-overview")
    assert journey.app_says()["version"] == "v1"


def test_the_app_url_opens_the_app_in_the_browser(journey: Journey) -> None:
    page = journey.page
    page.goto(f"/apps/{APP}")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open app").click(modifiers=["Control"])
    app_tab = opened.value
    app_tab.wait_for_load_state()
    assert f"{APP}.localhost" in app_tab.url
    assert '"version":"v1"' in app_tab.content().replace(" ", "")
    app_tab.close()


def test_setting_an_env_var_rolls_out_a_release_that_has_it(journey: Journey) -> None:
    page = journey.page
    page.goto(f"/apps/{APP}/settings")
    page.get_by_label("Key", exact=True).fill("GREETING")
    page.get_by_label("Value", exact=True).fill("bonjour")
    page.get_by_role("button", name="Save variable").click()
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("GREETING")
    # Secrets are masked in the list, and the value is nowhere on the page.
    expect(page.locator("main")).not_to_contain_text("bonjour")
    screenshot(page, "settings")
    notice.get_by_role("link", name=re.compile(r"deployment #\d+")).click()
    journey.wait_live()
    assert eventually(lambda: journey.app_says()["greeting"] == "bonjour", timeout=30)


def test_a_new_commit_deploys_with_the_button_and_rolls_back_to_the_first_release(journey: Journey) -> None:
    page = journey.page
    journey.repo.commit(fastapi_app("v2"), "Second version")
    page.goto(f"/apps/{APP}")
    page.get_by_role("button", name=re.compile(r"^Deploy")).click()
    expect(page).to_have_url(re.compile(rf"/apps/{APP}/deployments/\d+$"))
    journey.releases["v2"] = journey.wait_live()
    assert eventually(lambda: journey.app_says()["version"] == "v2", timeout=30)

    page.goto(f"/apps/{APP}/deployments")
    expect(page.locator("main")).to_contain_text("Second version")
    expect(page.locator("main")).to_contain_text("Octo Cat")
    screenshot(page, "deployments")

    page.goto(f"/apps/{APP}")
    release = page.get_by_role("combobox", name=re.compile(r"^Release"))
    options = release.locator("option")
    v1_option = options.filter(has_text=re.compile(r"First version"))
    release.select_option(v1_option.first.get_attribute("value"))
    page.get_by_role("button", name="Roll back", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/apps/{APP}/deployments/\d+$"))
    journey.wait_live()
    assert eventually(lambda: journey.app_says()["version"] == "v1", timeout=30)
    assert journey.app_says()["greeting"] == "bonjour"  # today's settings, the chosen release's code


def test_a_failed_build_says_why_at_the_top_and_the_last_good_release_keeps_serving(journey: Journey) -> None:
    page = journey.page
    journey.repo.commit(
        fastapi_app("v3", requirements="fastapi\nuvicorn\nno-such-package-dockyard-e2e==9.9.9\n"),
        "Depend on a package that does not exist",
    )
    page.goto(f"/apps/{APP}")
    page.get_by_role("button", name=re.compile(r"^Deploy")).click()
    expect(page.locator("#deployment-status")).to_have_text("failed", timeout=BUILD_TIMEOUT)
    reason = page.locator(".failure-reason")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("Why it failed")
    # The reason sits above the log, so nobody scrolls through a build to find it.
    reason_box = reason.bounding_box()
    log_box = page.locator("pre.log").bounding_box()
    assert reason_box and log_box and reason_box["y"] < log_box["y"]
    screenshot(page, "build-failed")
    assert journey.app_says()["version"] == "v1"


def test_the_runtime_log_tails_the_app(journey: Journey) -> None:
    page = journey.page
    httpx.get(
        f"http://127.0.0.1:{journey.platform.http_port}/?tail-me=1",
        headers={"Host": f"{APP}.localhost"},
        timeout=10,
    )
    page.goto(f"/apps/{APP}/logs")
    expect(page.locator("pre.log")).to_contain_text("tail-me=1", timeout=30_000)
    screenshot(page, "runtime-logs")


def test_a_viewer_sees_the_app_but_no_deploy_button(journey: Journey, browser: Browser) -> None:
    platform = journey.platform
    created = platform.call(
        "POST", "/api/v1/users", json={"username": "vera", "password": PASSWORD, "is_admin": False}
    )
    assert created.status_code == 201, created.text
    joined = platform.call("PUT", "/api/v1/teams/main/members/vera", json={"role": "viewer"})
    assert joined.status_code in (200, 201), joined.text
    context = new_context(browser, platform.api)
    page = context.new_page()
    page.goto(f"/apps/{APP}")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Username").fill("vera")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/apps/{APP}$"))
    expect(page.locator("#app-status")).to_contain_text("live")
    expect(page.get_by_role("button", name=re.compile(r"^Deploy"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"Roll back|Restart|Delete"))).to_have_count(0)
    screenshot(page, "viewer-app")
    context.close()


def test_pages_fit_a_phone_screen_and_are_reachable_by_keyboard(journey: Journey, browser: Browser) -> None:
    context: BrowserContext = new_context(browser, journey.platform.api, viewport=PHONE)
    context.add_cookies(journey.page.context.cookies())
    page = context.new_page()
    pages = ["/", f"/apps/{APP}", f"/apps/{APP}/deployments", f"/apps/{APP}/settings", f"/apps/{APP}/logs"]
    pages += [
        f"/apps/{APP}/deliveries",
        "/apps/new",
        "/settings/github",
        "/teams/main",
        "/tokens",
        "/account",
    ]
    for path in pages:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px screen"
        screenshot(page, f"phone{path.replace('/', '-')}")
    page.goto("/")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "New app":
            break
    else:
        pytest.fail("the New app link cannot be reached with the Tab key")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/apps/new"))
    context.close()
