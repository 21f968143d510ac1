"""In Chromium: the discipline office opens a survey round, issues codes and prints the sheet; an
anonymous respondent on a phone-sized screen follows a slip's link and answers; the rate shows
only once the group has five valid answers. Screenshots go to SHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assessments.survey_models import SurveyAnswer, SurveyCode
from conftest import PASSWORD
from tests.browser import every

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def answer_on_phone(phone, live_server, code: str, exposed: bool) -> None:
    phone.context.clear_cookies()
    phone.goto("about:blank")  # each respondent opens the link afresh (not a fragment change)
    phone.goto(f"{live_server.url}/s/#{code}")  # the slip's link: survey.js copies the code and sends it
    expect(phone.locator("[data-testid=survey-questions]")).to_be_visible()
    assert "#" not in phone.url
    for index in range(6):
        phone.locator(f"input[name=b{index}][value={'yes' if exposed and index == 1 else 'no'}]").check()
    phone.locator(f"input[name=overall][value={'yes' if exposed else 'no'}]").check()
    phone.click("[data-testid=survey-submit]")
    expect(phone.locator("[data-testid=survey-done]")).to_be_visible()


def test_open_print_answer_on_a_phone_and_the_rate_past_the_threshold(live_world, live_server, page):
    log_in(page, live_server, "discipline")
    page.goto(f"{live_server.url}/cycles/")
    page.click("[data-testid=nav-surveys]")
    page.click("[data-testid=survey-open]")
    page.fill("#id_name", "甲局2026年腐败接触率调查")
    shot(page, "open-desktop")
    page.click("[data-testid=survey-open-form] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("甲局2026年腐败接触率调查")
    page.fill("#id_count", "6")
    page.click("[data-testid=survey-codes-form] button[type=submit]")
    expect(page.locator("[data-testid=survey-facts]")).to_contain_text("已发放答题码 6 个")
    with page.context.expect_page() as opened:
        page.click("[data-testid=survey-print]")
    sheet = opened.value
    expect(sheet.locator("[data-testid=survey-slip]")).to_have_count(6)
    expect(sheet.locator("[data-testid=survey-slip] svg.survey-qr")).to_have_count(6)  # one QR per slip
    shot(sheet, "print-sheet-desktop")
    sheet.set_viewport_size({"width": 390, "height": 844})
    shot(sheet, "print-sheet-phone")
    codes = [text.replace("-", "") for text in sheet.locator("[data-testid=survey-code]").all_inner_texts()]
    assert set(codes) == set(SurveyCode.objects.values_list("code", flat=True))
    sheet.close()

    phone_context = page.context.browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    phone = phone_context.new_page()
    phone.goto(f"{live_server.url}/s/")
    shot(phone, "answer-code-phone")
    phone.fill("[data-survey-code]", "ABCDE-23456")
    phone.click("[data-testid=survey-code-form] button[type=submit]")
    expect(phone.locator("[data-testid=survey-error]")).to_contain_text("答题码无效")
    shot(phone, "answer-wrong-code-phone")
    phone.goto(f"{live_server.url}/s/#{codes[0]}")
    expect(phone.locator("[data-testid=survey-questions]")).to_be_visible()
    shot(phone, "answer-questions-phone")
    for index in range(6):
        phone.locator(f"input[name=b{index}][value={'yes' if index == 0 else 'no'}]").check()
    phone.locator("input[name=overall][value=yes]").check()
    phone.click("[data-testid=survey-submit]")
    expect(phone.locator("[data-testid=survey-done]")).to_be_visible()
    shot(phone, "answer-done-phone")
    for code, exposed in zip(codes[1:4], (False, True, False), strict=True):
        answer_on_phone(phone, live_server, code, exposed)
    assert SurveyAnswer.objects.count() == 4

    page.reload()
    expect(page.locator("[data-testid=survey-suppressed]")).to_be_visible()
    expect(page.locator("[data-testid=survey-rate]")).to_have_count(0)
    shot(page, "results-suppressed-desktop")

    answer_on_phone(phone, live_server, codes[4], exposed=False)
    phone.goto("about:blank")
    phone.goto(f"{live_server.url}/s/#{codes[4]}")  # the same slip again: burnt
    expect(phone.locator("[data-testid=survey-error]")).to_contain_text("答题码无效")
    phone_context.close()

    page.reload()
    expect(page.locator("[data-testid=survey-rate]")).to_contain_text("40.0 %")  # 2 of 5
    expect(page.locator("[data-testid=survey-interval]")).to_contain_text("11.8 % – 76.9 %")
    shot(page, "results-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "results-phone")


def test_rating_round_a_rater_rates_and_the_office_reads_scores_and_profiles(live_world, live_server, page):
    w = live_world
    log_in(page, live_server, "discipline")
    page.goto(f"{live_server.url}/cycles/")
    page.click("[data-testid=nav-ratings]")
    page.click("[data-testid=rating-open]")
    page.fill("#id_name", "甲局2026年班子成员思想道德测评")
    page.select_option("#id_positions", [str(w.position.pk)])
    shot(page, "rating-open-desktop")
    page.click("[data-testid=rating-open-form] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("甲局2026年班子成员思想道德测评")
    page.select_option("#id_position", str(w.position.pk))
    page.select_option("#id_rater", str(w.holder2.pk))
    page.select_option("#id_tier", "1")
    page.click("[data-testid=rating-invite-form] button[type=submit]")
    expect(page.locator("[data-testid=rating-facts]")).to_contain_text("已邀请测评人 1 人")

    log_in(page, live_server, "holder2")
    page.click("[data-testid=nav-inbox]")
    page.click("[data-testid=my-ratings]")
    page.locator("[data-testid=rating-invitations] a").first.click()
    for select in every(page.locator("[data-testid=rating-form] select")):
        select.select_option("good")
    page.locator("[data-testid=rating-form] select").first.select_option("excellent")
    shot(page, "rating-form-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "rating-form-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("[data-testid=rating-form] button[type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    log_in(page, live_server, "discipline")
    page.goto(f"{live_server.url}/ratings/")
    page.locator("[data-testid=rating-rounds] a").first.click()
    expect(page.locator("[data-testid=rating-score]")).to_have_text("83.3")  # (100 + 5 × 80) / 6
    shot(page, "rating-scores-desktop")
    page.goto(f"{live_server.url}/measures/bureau-a/")
    expect(page.locator("[data-testid=post-profiles]")).to_contain_text("审批岗")
    shot(page, "profiles-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "profiles-phone")
