//! How a Media Stream call ends: the agent's last words played, then a transfer or a hang-up
//! through Twilio's REST API; or a person, at once, when something we depend on failed.

use std::time::Duration;

use frontdesk_engine::RuntimeLine;
use frontdesk_telephony::twiml::{self, Dial, Say, Verb};
use tokio::time::Instant;

use super::{Ending, FrameSink, StreamCall};

impl<Tx: FrameSink> StreamCall<Tx> {
    /// The agent's last words have played: transfer or hang up through Twilio's REST API.
    pub(super) async fn end_call(&mut self) {
        let Some(ending) = self.ending.take() else {
            return;
        };
        let rest = &self.services.rest;
        let result = match &ending {
            Ending::Transfer(to, whisper) => {
                let twiml = twiml::render(&[Verb::Dial(self.dial(to, whisper.as_deref()))]);
                rest.update_call_twiml(&self.call_sid, &twiml).await
            }
            Ending::Hangup => rest.hang_up(&self.call_sid).await,
        };
        match result {
            // Twilio now stops the stream (a `stop`, then the socket closes).
            Ok(()) => self.close_due = Some(Instant::now() + Duration::from_secs(5)),
            Err(error) => {
                // Closing the stream still ends this leg of the call.
                tracing::error!(call_id = %self.call_sid, %error, "Twilio REST update failed; closing the stream");
                self.finished = true;
            }
        }
    }

    /// The stream went away while the call was still in a conversation: not stopped by
    /// Twilio, not ended or being ended by us.
    pub(super) fn lost(&self) -> bool {
        !self.stopped
            && !self.live.session.ended
            && self.ending.is_none()
            && self.close_due.is_none()
    }

    fn dial(&self, to: &str, whisper: Option<&str>) -> Dial {
        crate::server::transfer_dial(&self.state.config().public_url, to, whisper)
    }

    /// Something we depend on failed: apologize in Twilio's own voice and transfer.
    pub(super) async fn hand_to_person(&mut self) {
        let business = self.state.driver().engine.business();
        let human = business.phones.at(self.state.now()).human;
        let persona = &business.persona;
        let mut verbs = Vec::new();
        match self
            .state
            .driver()
            .engine
            .runtime_line(RuntimeLine::ServiceTrouble)
        {
            Ok(text) => verbs.push(Verb::Say(Say {
                text,
                voice: persona.voice.clone(),
                language: persona.language.clone(),
            })),
            Err(error) => {
                tracing::error!(call_id = %self.call_sid, %error, "could not render the service-trouble line");
            }
        }
        verbs.push(Verb::Dial(self.dial(&human, None)));
        let twiml = twiml::render(&verbs);
        if let Err(error) = self
            .services
            .rest
            .update_call_twiml(&self.call_sid, &twiml)
            .await
        {
            tracing::error!(call_id = %self.call_sid, %error, "could not hand the call to a person");
        }
        self.live.session.handed_to_person(&human);
        self.state
            .driver()
            .hang_up(&mut self.live, self.state.now())
            .await;
        self.finished = true;
    }
}
