//! Call-record writes as SQLite statements.

use sqlx::Sqlite;
use sqlx::query::Query;

use super::super::{
    CallWrite, StorageError, fmt_stamp, is_foreign_key_violation, is_unique_violation, sql,
};

/// The statement for one call-record write, its values bound: the one place that knows how
/// each kind of write maps onto SQL, for single writes and batches alike.
pub(super) fn call_write_query(
    write: &CallWrite,
) -> Query<'_, Sqlite, <Sqlite as sqlx::Database>::Arguments> {
    match write {
        CallWrite::StartCall {
            call_id,
            caller,
            called,
            at,
        } => sqlx::query(sql::START_CALL)
            .bind(call_id)
            .bind(caller)
            .bind(called)
            .bind(fmt_stamp(*at)),
        CallWrite::Turn {
            call_id,
            seq,
            speaker,
            text,
            state,
        } => sqlx::query(sql::ADD_TURN)
            .bind(call_id)
            .bind(i64::from(*seq))
            .bind(speaker.as_str())
            .bind(text)
            .bind(state),
        CallWrite::Event {
            call_id,
            kind,
            detail,
        } => sqlx::query(sql::ADD_EVENT_TEXT)
            .bind(call_id)
            .bind(kind)
            .bind(detail.to_string()),
        CallWrite::FinishCall {
            call_id,
            outcome,
            transfer_to,
            at,
        } => sqlx::query(sql::FINISH_CALL)
            .bind(call_id)
            .bind(outcome)
            .bind(transfer_to)
            .bind(fmt_stamp(*at)),
        CallWrite::CarrierStatus {
            call_id,
            status,
            duration_seconds,
            at,
        } => sqlx::query(sql::CARRIER_STATUS)
            .bind(call_id)
            .bind(status)
            .bind(duration_seconds)
            .bind(fmt_stamp(*at)),
    }
}

/// Maps constraint failures on call child rows to domain errors.
pub(super) fn call_write_error(err: sqlx::Error, call_id: &str, seq: Option<u32>) -> StorageError {
    if is_foreign_key_violation(&err) {
        StorageError::NotFound(format!("call {call_id}"))
    } else if let (true, Some(seq)) = (is_unique_violation(&err), seq) {
        StorageError::Conflict(format!("turn {seq} of call {call_id} already recorded"))
    } else {
        err.into()
    }
}
