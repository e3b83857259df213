"""Tasks queued before the house moved their modules still load after the deploy (letters 0017)."""

import importlib

import pytest
from django.apps import apps
from django.utils.module_loading import import_string

migration = importlib.import_module("letters.migrations.0017_queued_tasks_follow_the_house")


@pytest.mark.parametrize("old,new", migration.MOVED.items())
def test_a_task_queued_under_its_old_path_runs_under_its_new_one(db, old, new):
    task_results = apps.get_model("django_tasks_database", "DBTaskResult")
    row = task_results.objects.create(
        task_path=old, args_kwargs={"args": [], "kwargs": {}}, backend_name="default"
    )

    migration.follow(apps, None)

    row.refresh_from_db()
    assert row.task_path == new
    assert import_string(new).func.__name__ == new.rsplit(".", 1)[1]
