"""Documents of the measures of docs/surveys.md: the QR code printed on each survey code slip, and
the results of a survey round and of a rating round as Excel and PDF through the document
machinery of ``risk_registry.documents`` (always in Chinese, like the other official forms)."""

from __future__ import annotations

import io
from collections.abc import Callable

import segno
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from assessments.rating import GRADES, PostScore, post_scores
from assessments.survey_models import RatingRound, RoundState, SurveyRound
from assessments.surveys import INVALID_CONTRADICTORY, INVALID_NO_INFORMATION, GroupResult, survey_results
from risk_registry.documents.definitions import Column, DocumentHeader, FormSpec
from risk_registry.documents.pdf import write_pdf
from risk_registry.documents.xlsx import write_workbook

QR_ERROR = "m"  # 15 % of the symbol may be smudged or torn and the slip still reads
QR_SCALE = 3  # pixels per module: a 29-module (version 3) symbol with its quiet zone is 111 px


def qr_matrix(link: str) -> tuple[tuple[bool, ...], ...]:
    """The modules (dark = True) of the QR code of ``link``, row by row, without the quiet zone."""
    return tuple(tuple(bool(cell) for cell in row) for row in segno.make(link, error=QR_ERROR).matrix)


def qr_svg(link: str) -> SafeString:
    """The QR code of ``link`` as an inline ``<svg>`` (no style attribute, no script: the CSP holds).

    The SVG is made by segno from the link's modules only (it carries no text of the link), so it
    is safe to put in the page as it is.
    """
    svg = segno.make(link, error=QR_ERROR).svg_inline(
        scale=QR_SCALE, svgclass="survey-qr", lineclass=None, omitsize=True
    )
    return mark_safe(svg)  # noqa: S308 — segno's own markup of the modules, no user text in it


# --- results as documents ----------------------------------------------------------------------

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}
SURVEY_TITLE = "廉政风险外部环境（腐败接触率）问卷调查结果表"
RATING_TITLE = "领导岗位道德风险测评结果表"
SOURCE = "《局班子成员岗位廉政风险的测量》一(二)"
NONE = "—"
INVALID_LABELS = {INVALID_CONTRADICTORY: "前后矛盾", INVALID_NO_INFORMATION: "无有效信息"}
GRADE_LABELS_ZH = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}
TIER_LABELS = {1: "第一层级", 2: "第二层级", 3: "第三层级"}


def _suppressed(row: dict, value: str) -> str:
    return "" if row["suppressed"] else value


SURVEY_FORM = FormSpec(
    code="survey-results",
    title=SURVEY_TITLE,
    source=f"{SOURCE}4 外部环境风险",
    columns=(
        Column("serial", "序号", 6, lambda row: row["_serial"], numeric=True),
        Column("questionnaire", "问卷", 24, lambda row: row["questionnaire"]),
        Column("group", "岗位类别", 12, lambda row: row["group"]),
        Column("valid", "有效答卷", 16, lambda row: row["valid"], numeric=True),
        Column("invalid", "未计入答卷", 14, lambda row: _suppressed(row, row["invalid"])),
        Column("rate", "腐败接触率", 15, lambda row: _suppressed(row, row["rate"]), numeric=True),
        Column("interval", "95%置信区间（Wilson）", 20, lambda row: _suppressed(row, row["interval"])),
        Column("behaviours", "各行为遇到人数", 34, lambda row: _suppressed(row, row["behaviours"])),
    ),
    section_by="section",
)


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def survey_result_rows(survey_round: SurveyRound, results: list[GroupResult]) -> list[dict]:
    """One row per questionnaire and post group that has answers; a group under the round's
    threshold keeps only that it is below it, as on the page (no rate, counts or behaviours)."""
    state = "已结束" if survey_round.state == RoundState.CLOSED else "进行中"
    section = f"{survey_round.name}（{state}；有效答卷少于 {survey_round.min_group} 份的组不显示结果）"
    rows = []
    with translation.override("zh-hans"):
        for result in results:
            row = {
                "section": section,
                "questionnaire": result.questionnaire_label,
                "group": result.group_label,
                "suppressed": not result.shown,
            }
            if not result.shown or result.rate is None:
                row |= {"valid": f"少于 {survey_round.min_group} 份，不显示", "invalid": "", "rate": "", "interval": ""}
                row["behaviours"] = ""
            else:
                row |= {
                    "valid": str(result.valid),
                    "invalid": "；".join(f"{INVALID_LABELS.get(k, k)} {n}" for k, n in result.invalid.items()) or "0",
                    "rate": f"{_percent(result.rate.rate)}（{result.rate.successes}/{result.rate.trials}）",
                    "interval": f"{_percent(result.rate.low)} – {_percent(result.rate.high)}",
                    "behaviours": "\n".join(f"{label}：{count}" for label, count in result.behaviours),
                }
            rows.append(row)
    if not rows:
        rows.append(
            {"section": section, "questionnaire": "尚无答卷", "group": "", "suppressed": True, "valid": ""}
            | {"invalid": "", "rate": "", "interval": "", "behaviours": ""}
        )
    return rows


def _score(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}"


def _cell(key: str, index: int) -> Callable[[dict], object]:
    """The value of one of a row's per-round cells (``row[key][index]``)."""
    return lambda row: row[key][index]


def rating_form(rating_round: RatingRound) -> FormSpec:
    """The rating's form: its factors are the round's own, so the columns are made per round."""
    factor_columns = tuple(
        Column(
            f"factor{index}",
            factor,
            10,
            _cell("factors", index),
            numeric=True,
            group="各因素加权得分",
        )
        for index, factor in enumerate(rating_round.factors)
    )
    tier_columns = tuple(
        Column(
            f"tier{tier}",
            f"{label}（权重 {rating_round.tier_weights[str(tier)]}）",
            12,
            _cell("tiers", tier),
            numeric=True,
            group="各关系层级平均分（人数）",
        )
        for tier, label in TIER_LABELS.items()
    )
    return FormSpec(
        code="rating-results",
        title=RATING_TITLE,
        source=f"{SOURCE}1 道德风险",
        columns=(
            Column("serial", "序号", 6, lambda row: row["_serial"], numeric=True),
            Column("post", "岗位", 28, lambda row: row["post"]),
            Column("ratings", "评价份数", 8, lambda row: row["ratings"], numeric=True),
            *tier_columns,
            *factor_columns,
            Column("score", "加权得分", 10, lambda row: row["score"], numeric=True),
        ),
        section_by="section",
    )


def rating_result_rows(rating_round: RatingRound, scores: list[PostScore]) -> list[dict]:
    """One row per rated post: tier means with their counts, factor scores, the weighted score;
    never a rater (a ``Rating`` keeps none)."""
    state = "已结束" if rating_round.state == RoundState.CLOSED else "进行中"
    points = "、".join(f"{GRADE_LABELS_ZH[g]}{rating_round.grade_points[g]:g}" for g in GRADES)
    section = f"{rating_round.name}（{state}；{points}）"
    rows = []
    for post in scores:
        tiers = {tier: f"{value:.1f}（{count}）" if count else NONE for tier, count, value in post.tier_rows()}
        rows.append(
            {
                "section": section,
                "post": f"{post.position.department.name} · {post.position.title}",
                "ratings": str(post.ratings),
                "tiers": tiers,
                "factors": [_score(post.factors.get(factor)) for factor in rating_round.factors],
                "score": _score(post.score),
            }
        )
    return rows


def _write(form: FormSpec, header: DocumentHeader, rows: list[dict], fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "pdf":
        write_pdf(out, form=form, header=header, rows=rows)
    else:
        write_workbook(out, form=form, header=header, rows=rows)
    return out.getvalue()


def survey_document(survey_round: SurveyRound, fmt: str) -> tuple[bytes, int]:
    """The file's bytes and the number of groups in it (shown or not)."""
    results = survey_results(survey_round)
    header = DocumentHeader(institution=survey_round.institution.name, year=survey_round.year)
    return _write(SURVEY_FORM, header, survey_result_rows(survey_round, results), fmt), len(results)


def rating_document(rating_round: RatingRound, fmt: str) -> tuple[bytes, int]:
    """The file's bytes and the number of posts in it."""
    scores = post_scores(rating_round)
    header = DocumentHeader(institution=rating_round.institution.name, year=rating_round.year)
    return _write(rating_form(rating_round), header, rating_result_rows(rating_round, scores), fmt), len(scores)


def survey_filename(survey_round: SurveyRound, fmt: str) -> str:
    return f"{survey_round.institution.name}{survey_round.year}年度腐败接触率调查结果.{fmt}"


def rating_filename(rating_round: RatingRound, fmt: str) -> str:
    return f"{rating_round.institution.name}{rating_round.year}年度领导岗位道德风险测评结果.{fmt}"
