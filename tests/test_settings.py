"""Settings read from the environment: production is clean, bad values fail loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_deploy_check_is_clean_with_a_real_secret_and_host():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="x7Qm2vLp9Rz4Kt8Wn3Yb6Hc1Jd5Fg0Ss-Ue_Ai7Oo2Pq9Lx4Mv8Nb3Zc6Tr1Yw5Ek0",
        DJANGO_ALLOWED_HOSTS="shuanglian.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_refuses_the_demo_secret():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_ALLOWED_HOSTS="example.gov.cn")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr + result.stdout


def test_a_malformed_flag_stops_start_up_naming_the_variable():
    result = manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


def test_chinese_and_shanghai_time():
    from django.conf import settings

    assert (settings.LANGUAGE_CODE, settings.TIME_ZONE, settings.USE_TZ) == ("zh-hans", "Asia/Shanghai", True)


@pytest.mark.django_db
def test_postgresql_connections_run_without_the_jit_compiler():
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
    else:
        assert "options" not in connection.settings_dict.get("OPTIONS", {})
