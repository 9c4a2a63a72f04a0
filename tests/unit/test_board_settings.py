"""The wallboard settings: one model validates cdk.json's `wallboard` at synth; the board function reads it back."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connect_state.models.board_settings import QueueThresholds, WallboardSettings
from stacks.config import EXAMPLE_CONTEXT, ConfigError, load_config

QUEUE_ID = "5a2c3e14-0d4b-4a77-9f6e-0c1d2e3f4a5b"
OTHER_ID = "9b8a7c6d-1e2f-4a3b-8c7d-6e5f4a3b2c1d"
INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"
QUEUE_ARN = f"{INSTANCE}/queue/{QUEUE_ID}"
OTHER_ARN = f"{INSTANCE}/queue/{OTHER_ID}"


def synth_error(**context: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config({**EXAMPLE_CONTEXT, **context})
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_unset_the_board_covers_today_in_utc_with_connects_usual_thresholds() -> None:
    settings = load_config(dict(EXAMPLE_CONTEXT)).wallboard
    assert (settings.time_zone, settings.trailing_minutes) == ("UTC", None)
    assert settings.thresholds_for(QUEUE_ARN) == QueueThresholds(
        service_level_seconds=20,
        service_level_warn_percent=80,
        service_level_alert_percent=60,
        wait_warn_seconds=60,
        wait_alert_seconds=180,
        abandon_warn_percent=5,
        abandon_alert_percent=10,
    )


def test_a_queue_entry_overrides_only_the_levels_it_names() -> None:
    # Given a default and partial entries for one queue, by id and by ARN
    settings = WallboardSettings.model_validate(
        {
            "thresholds": {
                "default": {"waitWarnSeconds": 30, "serviceLevelSeconds": 15},
                QUEUE_ID: {"waitAlertSeconds": 90, "serviceLevelSeconds": 30},
                QUEUE_ARN: {"serviceLevelSeconds": 10},
            }
        }
    )
    # Then that queue takes the default's other levels, its id entry, and its ARN entry last
    mine = settings.thresholds_for(QUEUE_ARN)
    assert (mine.wait_warn_seconds, mine.wait_alert_seconds, mine.service_level_seconds) == (30, 90, 10)
    # And another queue has the default
    assert settings.thresholds_for(OTHER_ARN) == settings.default_thresholds
    default = settings.default_thresholds
    assert (default.wait_warn_seconds, default.service_level_seconds) == (30, 15)


def test_a_queue_is_named_by_its_entry_else_by_its_id() -> None:
    settings = WallboardSettings.model_validate({"queueNames": {QUEUE_ID: "Sales", OTHER_ARN: "Support"}})
    assert [settings.name_for(QUEUE_ARN), settings.name_for(OTHER_ARN)] == ["Sales", "Support"]
    assert WallboardSettings().name_for(QUEUE_ARN) == "queue 5a2c3e14"


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"timeZone": "Europe/London", "trailingMinutes": 30},
        {
            "timeZone": "America/New_York",
            "thresholds": {"default": {"abandonWarnPercent": 2.5}, QUEUE_ARN: {"abandonAlertPercent": 7.5}},
            "queueNames": {QUEUE_ID: "Sales — priority"},
        },
    ],
)
def test_the_function_reads_back_exactly_what_synth_validated(raw: dict[str, Any]) -> None:
    settings = WallboardSettings.model_validate(raw)
    text = settings.to_environment()
    assert WallboardSettings.from_environment(text) == settings
    # compact: the function's variables share 4 KB
    assert "\n" not in text
    assert ": " not in text


@pytest.mark.parametrize(
    ("wallboard", "message"),
    [
        (
            {"timeZone": "Europe/Londn"},
            'cdk.json context "wallboard.timeZone": expected an IANA time zone such as Europe/London or UTC, '
            "got 'Europe/Londn'",
        ),
        (
            {"trailingMinutes": 1},
            'cdk.json context "wallboard.trailingMinutes": expected a whole number of minutes from 5 to 1440, got 1',
        ),
        (
            {"thresholds": {"default": {"serviceLevelSeconds": 0}}},
            'cdk.json context "wallboard.thresholds.default.serviceLevelSeconds": expected a whole number of seconds '
            "above 0 and up to 604800, got 0",
        ),
        (
            {"thresholds": {"default": {"serviceLevelAlertPercent": 85}}},
            'cdk.json context "wallboard.thresholds.default": serviceLevelAlertPercent (85) must be below '
            "serviceLevelWarnPercent (80): a service level is worse when lower",
        ),
        (
            {"thresholds": {"default": {"waitWarnSeconds": 200}}},
            'cdk.json context "wallboard.thresholds.default": waitAlertSeconds (180) must be above '
            "waitWarnSeconds (200): a wait is worse when longer",
        ),
        (
            {"thresholds": {"default": {"abandonWarnPercent": 10}}},
            'cdk.json context "wallboard.thresholds.default": abandonAlertPercent (10) must be above '
            "abandonWarnPercent (10): abandonment is worse when higher",
        ),
        (
            {"thresholds": {QUEUE_ID: {"waitAlertSeconds": 45}}},
            f'cdk.json context "wallboard.thresholds": queue {QUEUE_ID} (its entry over the default): '
            "waitAlertSeconds (45) must be above waitWarnSeconds (60): a wait is worse when longer",
        ),
        (
            {"thresholds": {QUEUE_ID: {"abandonWarnPercent": 120}}},
            f'cdk.json context "wallboard.thresholds.{QUEUE_ID}.abandonWarnPercent": expected a number from 0 to 100, '
            "got 120",
        ),
        (
            {"thresholds": {"defualt": {"waitWarnSeconds": 30}}},
            "cdk.json context \"wallboard.thresholds\": 'defualt' is neither 'default' nor a queue id (uuid) or a "
            "queue ARN (arn:aws:connect:<region>:<account>:instance/<id>/queue/<id>)",
        ),
        (
            {"thresholds": {QUEUE_ID: {"waitAlertSecs": 300}}},
            f'cdk.json context "wallboard.thresholds.{QUEUE_ID}.waitAlertSecs": no such setting; '
            f'did you mean "wallboard.thresholds.{QUEUE_ID}.waitAlertSeconds"?',
        ),
        (
            {"timezone": "UTC"},
            'cdk.json context "wallboard.timezone": no such setting; did you mean "wallboard.timeZone"?',
        ),
        (
            {"queueNames": {"Sales": "Sales"}},
            "cdk.json context \"wallboard.queueNames\": 'Sales' is not a queue id (uuid) or a queue ARN "
            "(arn:aws:connect:<region>:<account>:instance/<id>/queue/<id>)",
        ),
        (
            {"queueNames": {QUEUE_ID: " "}},
            f'cdk.json context "wallboard.queueNames": the name of queue {QUEUE_ID} is empty',
        ),
    ],
)
def test_a_bad_setting_fails_synth_with_one_line_naming_its_key(wallboard: dict[str, Any], message: str) -> None:
    assert synth_error(wallboard=wallboard) == message


def test_dotted_command_line_keys_reach_the_default_and_a_queue_entry() -> None:
    # Given cdk.json's wallboard object and `-c wallboard.timeZone=... -c wallboard.thresholds.<id>.waitAlertSeconds=`
    config = load_config(
        {
            **EXAMPLE_CONTEXT,
            "wallboard": {"timeZone": "UTC", "queueNames": {QUEUE_ID: "Sales"}},
            "wallboard.timeZone": "Europe/London",
            "wallboard.trailingMinutes": "60",
            "wallboard.thresholds.default.waitWarnSeconds": "45",
            f"wallboard.thresholds.{QUEUE_ID}.waitAlertSeconds": "120",
        }
    )
    # Then each sets its one field and the object's others stay
    settings = config.wallboard
    assert (settings.time_zone, settings.trailing_minutes) == ("Europe/London", 60)
    assert settings.name_for(QUEUE_ARN) == "Sales"
    mine = settings.thresholds_for(QUEUE_ARN)
    assert (mine.wait_warn_seconds, mine.wait_alert_seconds) == (45, 120)
    assert settings.thresholds_for(OTHER_ARN).wait_alert_seconds == 180


def test_a_dotted_key_that_is_a_typo_of_a_queue_setting_is_rejected() -> None:
    message = synth_error(**{f"wallboard.thresholds.{QUEUE_ID}.waitAlert": "120"})
    assert message.startswith(f'cdk.json context "wallboard.thresholds.{QUEUE_ID}.waitAlert": no such setting')


def test_settings_the_function_reads_are_validated_as_at_synth() -> None:
    with pytest.raises(ValidationError, match="must be above waitWarnSeconds"):
        WallboardSettings.from_environment('{"thresholds":{"default":{"waitAlertSeconds":10}}}')


def test_settings_too_large_for_the_functions_environment_fail_synth() -> None:
    # Given 40 queues named by ARN (Lambda allows 4 KB for all of a function's environment variables)
    names = {f"{INSTANCE}/queue/{index:08d}-0d4b-4a77-9f6e-0c1d2e3f4a5b": f"Queue {index}" for index in range(40)}
    message = synth_error(wallboard={"queueNames": names})
    assert message.startswith('cdk.json context "wallboard": the settings take ')
    assert "key the entries by queue id rather than ARN" in message
