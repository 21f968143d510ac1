from django.urls import path, register_converter

from risk_registry.web.params import YearConverter
from risk_registry.web.views import coach, dashboards, grading, inbox, post_grades, revisions
from risk_registry.web.views import points as views
from risk_registry.web.views import workflow as wf

register_converter(YearConverter, "year")

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("org/", views.institution_tree, name="institution_tree"),
    path("org/<slug:code>/", views.institution_detail, name="institution_detail"),
    path("org/<slug:code>/grading/", grading.grading_scheme_edit, name="grading_scheme_edit"),
    path("org/<slug:code>/grading/switch/", grading.grading_scheme_switch, name="grading_scheme_switch"),
    path("org/<slug:code>/post-grades/<year:year>/", post_grades.post_grade_list, name="post_grade_list"),
    path("post-grades/<int:pk>/decide/", post_grades.post_grade_decide, name="post_grade_decide"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path(
        "departments/<int:pk>/risks/new/", views.risk_point_create_for_department, name="department_risk_point_create"
    ),
    path("positions/<int:pk>/risks/new/", views.risk_point_create_for_position, name="position_risk_point_create"),
    path("risks/", views.risk_point_list, name="risk_point_list"),
    path("risks/<int:pk>/", views.risk_point_detail, name="risk_point_detail"),
    path("risks/<int:pk>/edit/", views.risk_point_edit, name="risk_point_edit"),
    path("risks/<int:pk>/step/<slug:name>/", wf.risk_point_step, name="risk_point_step"),
    path("risks/<int:pk>/propose/", wf.risk_point_propose, name="risk_point_propose"),
    path("proposals/<int:pk>/decide/", wf.proposal_decide, name="proposal_decide"),
    path("risks/<int:pk>/controls/revise/", revisions.control_revision_create, name="control_revision_create"),
    path("control-revisions/<int:pk>/", revisions.control_revision_detail, name="control_revision_detail"),
    path("control-revisions/<int:pk>/review/", revisions.control_revision_review, name="control_revision_review"),
    path("registers/<slug:code>/<year:year>/", wf.register_detail, name="register_detail"),
    path("registers/<slug:code>/<year:year>/batch/<slug:name>/", wf.register_batch, name="register_batch"),
    path("registers/<slug:code>/<year:year>/bulk/", wf.register_bulk, name="register_bulk"),
    path("registers/<slug:code>/<year:year>/decide/", wf.register_decide, name="register_decide"),
    path("registers/<slug:code>/<year:year>/superior/", wf.register_superior, name="register_superior"),
    path("registers/<slug:code>/<year:year>/rules/", wf.register_rules, name="register_rules"),
    path("registers/<slug:code>/<year:year>/publish/", wf.register_publish, name="register_publish"),
    path("registers/<slug:code>/<year:year>/comment/", wf.register_comment, name="register_comment"),
    path("registers/<slug:code>/<year:year>/issue/", wf.register_issue, name="register_issue"),
    path("registers/<slug:code>/<year:year>/file/", wf.register_file, name="register_file"),
    path("attachments/<int:pk>/", wf.decision_attachment, name="decision_attachment"),
    path("comments/<int:pk>/answer/", wf.comment_answer, name="comment_answer"),
    path("filings/", wf.filings, name="filings"),
    path("versions/<int:pk>/", wf.version_detail, name="version_detail"),
    path("inbox/", inbox.inbox_page, name="inbox"),
    path("risks/coach/", coach.risk_point_coach, name="risk_point_coach"),
    path("audit/", wf.audit_log, name="audit_log"),
    path("watch/", dashboards.watch_page, name="watch"),
    path("dashboards/oversight/", dashboards.oversight_dashboard, name="oversight_dashboard"),
    path("dashboards/leadership/", dashboards.leadership_dashboard, name="leadership_dashboard"),
    path("dashboards/mine/", dashboards.my_dashboard, name="my_dashboard"),
]
