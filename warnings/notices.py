"""A disposition's notice (警示提醒书, 诫勉谈话告知书, 责令整改通知书 …) as a PDF in the official style:
title, number, recipient, facts, requirement, deadline, and the discipline office's signature and
seal block. Always in Chinese, the language of the official documents, whatever the UI language."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from integrity_warnings.ladder import rung_of
from integrity_warnings.models import Disposition
from risk_registry.documents.pdf import cjk_font, html_to_pdf


def notice_html(disposition: Disposition) -> str:
    with translation.override("zh-hans"):
        rung = rung_of(disposition.measure)
        return render_to_string(
            "warnings/pdf/notice.html",
            {
                "font": cjk_font(),
                "d": disposition,
                "title": str(rung.notice_title),
                "needs_response": rung.needs_response,
                "office": disposition.item.institution.name,
            },
        )


def notice_pdf(disposition: Disposition) -> bytes:
    return html_to_pdf(notice_html(disposition))
