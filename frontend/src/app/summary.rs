//! The parts of the page around the list: the summary (total progress, speed, time left, counts,
//! Cancel all / Retry all / Clear finished / Forget this browser's uploads), the banner (configuration and signer problems), the
//! limits under the drop zone, and the picker's `accept`.

use shared::human_bytes;
use yew::prelude::*;

use super::{App, Msg};
use crate::browser::sent;
use crate::upload::progress::clock;
use crate::upload::queue::Event;

impl App {
    pub(super) fn summary(&self, ctx: &Context<Self>) -> Html {
        let w = self.lang.words();
        let link = ctx.link();
        let summary = self.queue.summary();
        let finished = self.queue.entries().iter().any(|e| e.status.is_finished());
        // Anonymous, nobody signs out: the user can still make the page forget what it keeps.
        let forget = self.auth.is_none() && (!self.queue.entries().is_empty() || sent::any());
        html! {
        <section class="summary">
            <div class="bar total" role="progressbar" aria-label={w.total}
                aria-valuemin="0" aria-valuemax="100" aria-valuenow={summary.percent.to_string()}>
                <div class="fill" style={format!("--p:{}", summary.percent)}></div>
            </div>
            <p class="counts">
                { format!("{}% · {} / {}", summary.percent, human_bytes(summary.sent), human_bytes(summary.total)) }
                { if summary.bytes_per_second > 0.0 { format!(" · {}/s", human_bytes(summary.bytes_per_second as u64)) } else { String::new() } }
                { summary.seconds_left.map(|s| format!(" · {} {}", clock(s), w.left)).unwrap_or_default() }
                { for summary.counts.iter().map(|(status, n)| html! {
                    <span class={classes!("count", status.as_str())}>{ format!("{} {n}", self.lang.status(*status)) }</span>
                }) }
            </p>
            <p class="bulk">
                if summary.can_cancel_any {
                    <button type="button" onclick={link.callback(|_| Msg::Queue(Event::CancelAll))}>{ w.cancel_all }</button>
                }
                if summary.can_retry_any {
                    <button type="button" onclick={link.callback(|_| Msg::Queue(Event::RetryAll))}>{ w.retry_all }</button>
                }
                if finished {
                    <button type="button" class="clear" onclick={link.callback(|_| Msg::Queue(Event::ClearFinished))}>
                        { w.clear_finished }
                    </button>
                }
                if forget {
                    <button type="button" class="quiet forget" onclick={link.callback(|_| Msg::Forget)}>
                        { w.forget }
                    </button>
                }
            </p>
        </section>
        }
    }

    pub(super) fn banner(&self) -> Html {
        let w = self.lang.words();
        if let Some(error) = &self.config_error {
            return html! { <p class="banner error" role="alert">{ format!("{} {error}", w.not_configured) }</p> };
        }
        if self.rules_error.is_some() {
            return html! { <p class="banner warning" role="alert">{ w.signer_down }</p> };
        }
        if self.signer_url.is_none() {
            return html! { <p class="banner">{ w.loading }</p> };
        }
        Html::default()
    }

    /// The picker's `accept`: the allowed types, when the rules list some (`*/*` accepts all).
    pub(super) fn accept(&self) -> Option<String> {
        let rules = self.queue.rules()?;
        let types: Vec<&str> = rules
            .allowed_content_types
            .iter()
            .map(|t| t.as_str())
            .filter(|t| *t != "*/*")
            .collect();
        (types.len() == rules.allowed_content_types.len() && !types.is_empty())
            .then(|| types.join(","))
    }

    pub(super) fn limits(&self) -> String {
        let w = self.lang.words();
        let Some(rules) = self.queue.rules() else {
            return String::new();
        };
        let types: Vec<&str> = rules
            .allowed_content_types
            .iter()
            .map(|t| t.as_str())
            .collect();
        let types = if types == ["*/*"] {
            w.any_type.to_string()
        } else {
            types.join(", ")
        };
        format!("{} {} · {types}", w.limits, human_bytes(rules.max_bytes))
    }
}
