#!/usr/bin/env python3
"""Drives the dashboard in a real headless Chromium (Selenium with Debian's chromedriver).

Signs in as an operator and as a ministry-admin, walks every page in Arabic and English with
screenshots, files a capacity request from the form and approves it from the page, and reports
what it saw as one JSON object on stdout. Exit 0 when it ran to the end (the caller judges).
"""
import argparse
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import Select, WebDriverWait


def driver_for(language, width=1280, height=900):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--ignore-certificate-errors", f"--lang={language}", f"--window-size={width},{height}"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


class Run:
    def __init__(self, args):
        self.args = args
        self.report = {"checks": {}, "consoleErrors": [], "screenshots": [], "untranslated": []}
        os.makedirs(args.screenshots, exist_ok=True)

    def step(self, name):
        self.report["step"] = name

    def check(self, name, value):
        self.report["checks"][name] = bool(value)

    def wait(self, driver, condition, timeout=15):
        return WebDriverWait(driver, timeout).until(condition)

    def settle(self, driver, text=None):
        """Until the page the address names has rendered in the page's language (the app marks
        the body once it has)."""
        def rendered(d):
            state = d.execute_script(
                "const hash = location.hash || '#/overview';"
                "return document.body.dataset.rendered === `${hash} ${document.documentElement.lang}`")
            return state and d.find_elements(By.ID, "live")
        self.wait(driver, rendered)
        if text:
            self.wait(driver, lambda d: text in d.find_element(By.ID, "main").text)

    def console(self, driver, page):
        for entry in driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                self.report["consoleErrors"].append(f"{page}: {entry.get('message')}")

    def untranslated(self, driver, page):
        text = driver.find_element(By.TAG_NAME, "body").text
        for pattern in [r"\{\w+\}", r"\b(phase|code|role)\.\w+", r"\bmissing message\b"]:
            for found in re.findall(pattern, text):
                self.report["untranslated"].append(f"{page}: {found}")

    def shot(self, driver, name):
        path = os.path.join(self.args.screenshots, f"{name}.png")
        driver.save_screenshot(path)
        self.report["screenshots"].append(path)

    def sign_in(self, driver, token):
        driver.get(self.args.url + "/ui/")
        self.wait(driver, EC.presence_of_element_located((By.ID, "token")))
        field = driver.find_element(By.ID, "token")
        field.send_keys(token)
        field.send_keys(Keys.ENTER)
        self.settle(driver)

    def language(self, driver, value):
        Select(driver.find_element(By.ID, "language")).select_by_value(value)
        self.wait(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == value)
        self.settle(driver)

    def pages(self, driver, role):
        """Every page in both languages: screenshots, untranslated text, console errors."""
        routes = [("overview", "#/overview"), ("ministry", f"#/ministries/{self.args.ministry}"),
                  ("nodes", "#/nodes"), ("node", f"#/nodes/{self.args.node}")]
        if role == "operator":
            routes.append(("audit", "#/audit"))
        for language in ["ar", "en"]:
            self.language(driver, language)
            direction = driver.find_element(By.TAG_NAME, "html").get_attribute("dir")
            self.check(f"{role}-{language}-dir", direction == ("rtl" if language == "ar" else "ltr"))
            for name, route in routes:
                driver.get(self.args.url + "/ui/" + route)
                self.settle(driver)
                self.untranslated(driver, f"{role}/{language}/{name}")
                self.console(driver, f"{role}/{language}/{name}")
                self.shot(driver, f"{name}-{language}" if role == "operator" else f"{role}-{name}-{language}")
        self.language(driver, "ar")

    def operator(self):
        driver = driver_for("ar")
        try:
            driver.get(self.args.url + "/ui/")
            self.wait(driver, EC.presence_of_element_located((By.ID, "token")))
            html = driver.find_element(By.TAG_NAME, "html")
            self.check("arabic-by-default", html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl")
            # Keyboard: the page starts in the token field; Tab reaches the button and the language.
            focused = [driver.switch_to.active_element.get_attribute("id")]
            for _ in range(8):
                ActionChains(driver).send_keys(Keys.TAB).perform()
                focused.append(driver.switch_to.active_element.get_attribute("id"))
            self.report["focused"] = focused
            self.check(
                "keyboard-reaches-sign-in",
                focused[0] == "token" and "signin-submit" in focused and "language" in focused
                and "nav-ministries" not in focused)
            policy = driver.execute_script("return document.querySelectorAll('script:not([src])').length")
            self.check("no-inline-script", policy == 0)
            self.sign_in(driver, self.args.operator_token)
            self.settle(driver)
            main = driver.find_element(By.ID, "main").text
            self.check("overview-three-nodes", all(node in main for node in self.args.nodes.split(",")))
            bars = driver.find_elements(By.CSS_SELECTOR, ".cards .card")
            self.check("overview-ministry-bars", len(bars) == self.args.ministries)
            self.check("arabic-ministry-names", all(name in main for name in self.args.arabic_names.split(",")))
            self.check("bars-carry-numbers", all(bar.find_element(By.CSS_SELECTOR, ".value").text.strip() for bar in driver.find_elements(By.CSS_SELECTOR, ".bar")))
            self.step("operator pages")
            self.pages(driver, "operator")
            self.step("360 px")
            # 360 px wide: nothing wider than the screen but the tables' own scrolling boxes.
            driver.set_window_size(360, 800)
            driver.get(self.args.url + "/ui/#/overview")
            self.settle(driver)
            width = driver.execute_script("return document.documentElement.scrollWidth")
            self.check("fits-360", width <= 362)
            self.shot(driver, "overview-ar-360")
            driver.set_window_size(1280, 900)
            self.step("cordon")
            # Cordon and uncordon a node from its page, confirmed.
            driver.get(self.args.url + f"/ui/#/nodes/{self.args.node}")
            self.settle(driver)
            driver.find_element(By.ID, "cordon-node").click()
            driver.switch_to.alert.accept()
            self.wait(driver, EC.presence_of_element_located((By.ID, "uncordon-node")))
            driver.find_element(By.ID, "uncordon-node").click()
            driver.switch_to.alert.accept()
            self.wait(driver, EC.presence_of_element_located((By.ID, "cordon-node")))
            self.check("cordon-uncordon", True)
            self.step("error")
            # An API error appears in the page, in the reader's language, with the API's message.
            driver.get(self.args.url + "/ui/#/ministries/no-such-ministry")
            self.wait(driver, EC.visibility_of_element_located((By.ID, "error")))
            error = driver.find_element(By.ID, "error").text
            self.check("error-shown-arabic", "رفض المتحكّم" in error and "no-such-ministry" in error)
            # The browser logs the refused calls this page made on purpose: not errors of the page.
            driver.get_log("browser")
            self.step("sign out")
            # Signing out forgets the token.
            driver.find_element(By.ID, "sign-out").click()
            self.wait(driver, EC.presence_of_element_located((By.ID, "token")))
            self.check("sign-out-forgets", driver.execute_script("return sessionStorage.getItem('tansiq.token')") is None)
        finally:
            driver.quit()

    def ministry_admin(self):
        driver = driver_for("ar")
        try:
            self.step("ministry-admin sign in")
            self.sign_in(driver, self.args.admin_token)
            self.wait(driver, lambda d: f"#/ministries/{self.args.ministry}" in d.current_url)
            self.settle(driver)
            driver.get(self.args.url + "/ui/#/ministries")
            self.settle(driver)
            rows = driver.find_elements(By.CSS_SELECTOR, "#main tbody tr")
            self.check("admin-sees-only-own-ministry", len(rows) == 1)
            self.step("ministry-admin pages")
            self.pages(driver, "ministry-admin")
            self.step("request form")
            driver.get(self.args.url + f"/ui/#/ministries/{self.args.ministry}")
            self.settle(driver)
            labels = driver.execute_script(
                "return [...document.querySelectorAll('#request-form input, #request-form textarea')]"
                ".every(e => document.querySelector(`label[for=\"${e.id}\"]`))")
            self.check("form-fields-labelled", labels)
            driver.find_element(By.ID, "request-cpu").send_keys("1")
            driver.find_element(By.ID, "request-memory").send_keys("2Gi")
            driver.find_element(By.ID, "request-reason").send_keys("Vaccination season — موسم التطعيم")
            driver.find_element(By.ID, "request-submit").click()
            notice = self.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
            match = re.search(r"[a-z0-9-]+-[a-z0-9]+", notice.text)
            self.report["requestName"] = match.group(0) if match else None
            self.shot(driver, "ministry-admin-request-filed-ar")
            self.console(driver, "ministry-admin/request")
        finally:
            driver.quit()

    def approve(self):
        driver = driver_for("en")
        try:
            self.step("approve")
            self.sign_in(driver, self.args.operator_token)
            self.check("english-when-preferred", driver.find_element(By.TAG_NAME, "html").get_attribute("dir") == "ltr")
            driver.get(self.args.url + f"/ui/#/ministries/{self.args.ministry}")
            self.settle(driver)
            name = self.report.get("requestName")
            self.step(f"approve {name}")
            self.report["requestsSection"] = driver.execute_script(
                "const s = document.querySelector('[aria-labelledby=h-requests]'); return s ? s.innerHTML.slice(0, 3000) : 'none'")
            self.wait(driver, EC.presence_of_element_located((By.ID, f"approve-{name}")))
            driver.find_element(By.ID, f"comment-{name}").send_keys("approved from the dashboard")
            driver.find_element(By.ID, f"approve-{name}").click()
            driver.switch_to.alert.accept()
            self.wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice") or d.find_element(By.ID, "error").is_displayed())
            if driver.find_element(By.ID, "error").is_displayed():
                self.report["pageError"] = driver.find_element(By.ID, "error").text
            notice = self.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
            self.check("approved-in-page", "Approved" in notice.text)
            self.shot(driver, "operator-request-approved-en")
            self.console(driver, "operator/approve")
        finally:
            driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--operator-token", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--ministry", required=True)
    parser.add_argument("--ministries", type=int, required=True)
    parser.add_argument("--arabic-names", required=True)
    parser.add_argument("--nodes", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    run = Run(args)
    try:
        run.operator()
        run.ministry_admin()
        run.approve()
    except (TimeoutException, Exception) as error:  # the report says where it stopped
        run.report["failure"] = (
            f"{type(error).__name__} at {run.report.get('step')}: {str(error).splitlines()[0] if str(error) else ''} "
            f"{run.report.get('pageError', '')}")
    print(json.dumps(run.report, ensure_ascii=False))


if __name__ == "__main__":
    main()
