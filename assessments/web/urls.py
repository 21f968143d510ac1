from django.urls import path

from assessments.web import rating_views, survey_views, unit_views, views

urlpatterns = [
    path("tasks/", views.inbox, name="my_tasks"),
    path("tasks/read/", views.inbox_mark_read, name="notifications_mark_read"),
    path("notifications/<int:pk>/", views.notification_detail, name="notification_detail"),
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/new/", views.cycle_launch, name="cycle_launch"),
    path("cycles/<int:pk>/", views.cycle_board, name="cycle_board"),
    path("cycles/<int:pk>/edit/", views.cycle_edit, name="cycle_edit"),
    path("cycles/<int:pk>/close/", views.cycle_close, name="cycle_close"),
    path("cycles/<int:pk>/self-assessment/<slug:code>/", views.self_assessment, name="self_assessment"),
    path("cycles/<int:pk>/changes/<slug:code>/", views.year_changes, name="year_changes"),
    path("surveys/", survey_views.survey_list, name="survey_list"),
    path("surveys/new/", survey_views.survey_open, name="survey_open"),
    path("surveys/<int:pk>/", survey_views.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/codes/", survey_views.survey_codes_issue, name="survey_codes_issue"),
    path("surveys/<int:pk>/print/", survey_views.survey_codes_print, name="survey_codes_print"),
    path("surveys/<int:pk>/close/", survey_views.survey_close, name="survey_close"),
    path("surveys/<int:pk>/export.<slug:fmt>", survey_views.survey_export, name="survey_export"),
    path("s/", survey_views.survey_answer, name="survey_answer"),
    path("ratings/", rating_views.rating_list, name="rating_list"),
    path("ratings/new/", rating_views.rating_open, name="rating_open"),
    path("ratings/<int:pk>/", rating_views.rating_detail, name="rating_detail"),
    path("ratings/<int:pk>/invite/", rating_views.rating_invite, name="rating_invite"),
    path("ratings/<int:pk>/close/", rating_views.rating_close, name="rating_close"),
    path("ratings/<int:pk>/export.<slug:fmt>", rating_views.rating_export, name="rating_export"),
    path("ratings/invitations/<int:pk>/", rating_views.rating_rate, name="rating_rate"),
    path("measures/<slug:code>/", rating_views.post_profiles, name="post_profiles"),
]

urlpatterns += [
    path("cycles/<int:pk>/units/", unit_views.unit_compare, name="unit_compare"),
    path("cycles/<int:pk>/units/export.<slug:fmt>", unit_views.unit_export, name="unit_export"),
    path("cycles/<int:pk>/units/<slug:code>/", unit_views.unit_assessment, name="unit_assessment"),
    path("cycles/<int:pk>/units/<slug:code>/open/", unit_views.unit_open, name="unit_open"),
    path("cycles/<int:pk>/units/<slug:code>/self/", unit_views.unit_self_score, name="unit_self_score"),
    path(
        "cycles/<int:pk>/units/<slug:code>/items/<int:item>/files/",
        unit_views.unit_evidence_upload,
        name="unit_evidence_upload",
    ),
    path(
        "cycles/<int:pk>/units/<slug:code>/files/<int:file>/", unit_views.unit_evidence_file, name="unit_evidence_file"
    ),
    path("cycles/<int:pk>/units/<slug:code>/assess/", unit_views.unit_assess, name="unit_assess"),
    path("cycles/<int:pk>/units/<slug:code>/outcomes/", unit_views.unit_outcome, name="unit_outcome"),
    path(
        "cycles/<int:pk>/units/<slug:code>/outcomes/<int:outcome>/done/",
        unit_views.unit_rectified,
        name="unit_rectified",
    ),
    path("assessment-checklists/", unit_views.checklist_list, name="checklist_list"),
    path("assessment-checklists/adopt/", unit_views.checklist_adopt, name="checklist_adopt"),
    path("assessment-checklists/<int:pk>/", unit_views.checklist_edit, name="checklist_edit"),
]
