"""Every introduction stage, decline reason and wish, and every meeting state, has a label to
show, and nothing else."""

from marketplace import constants
from marketplace.models.introductions import DECLINE_REASONS, WISHES
from marketplace.models.states import (
    IntroductionStage,
    MeetingRequestStatus,
    MeetingStatus,
    ScheduleState,
)


def test_every_stage_reason_and_wish_has_a_label():
    assert set(constants.INTRODUCTION_STAGES) == {stage.value for stage in IntroductionStage}
    assert list(constants.DECLINE_REASON_LABELS) == list(DECLINE_REASONS)
    assert list(constants.WISH_LABELS) == list(WISHES)


def test_every_meeting_state_has_a_label():
    assert set(constants.SCHEDULE_STATES) == {s.value for s in ScheduleState}
    assert set(constants.MEETING_REQUEST_STATUSES) == {s.value for s in MeetingRequestStatus}
    assert set(constants.MEETING_STATUSES) == {s.value for s in MeetingStatus}
