"""Finding 5, settings side: production cannot take fake money."""

from tests.test_settings import PRODUCTION, run_manage

NO_STRIPE = {k: v for k, v in PRODUCTION.items() if not k.startswith("STRIPE_")}


def test_finding_05_production_without_stripe_keys_refuses_to_start():
    result = run_manage("check", env=NO_STRIPE)
    assert result.returncode != 0
    assert "ALLOW_TEST_PAYMENTS" in result.stderr and "STRIPE_SECRET_KEY" in result.stderr


def test_finding_05_allow_test_payments_starts_but_the_deploy_check_says_so():
    result = run_manage("check", env={**NO_STRIPE, "ALLOW_TEST_PAYMENTS": "1"})
    assert result.returncode == 0, result.stderr
    deploy = run_manage("check", "--deploy", "--fail-level", "WARNING", env={**NO_STRIPE, "ALLOW_TEST_PAYMENTS": "1"})
    assert deploy.returncode != 0
    assert "payments.W001" in deploy.stdout + deploy.stderr


def test_deploy_check_refuses_a_stripe_key_without_its_webhook_secret():
    env = {k: v for k, v in PRODUCTION.items() if k != "STRIPE_WEBHOOK_SECRET"}
    result = run_manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "payments.E001" in result.stdout + result.stderr
