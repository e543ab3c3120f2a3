//! Zoom's pages: `page_size` (30 by default, clamped to the listing's
//! maximum) and an expiring `next_page_token` while more remain.

use serde_json::{Value, json};

use super::{FakeZoom, zoom_error};
use crate::outbound::{FakeRequest, FakeResponse};

impl FakeZoom {
    /// A page of `items`, with a `next_page_token` when more remain.
    pub(super) fn page(
        &self,
        request: &FakeRequest,
        listing: &str,
        items: Vec<Value>,
        max: usize,
        field: &str,
    ) -> FakeResponse {
        self.page_of(request, listing, items, max, field, |v| v)
    }

    /// A page of `items`, rendering only the page's items: listings of
    /// 10,000 registrants are read a page at a time.
    pub(super) fn page_of<T>(
        &self,
        request: &FakeRequest,
        listing: &str,
        items: Vec<T>,
        max: usize,
        field: &str,
        render: impl Fn(T) -> Value,
    ) -> FakeResponse {
        let page_size = request
            .query_param("page_size")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, max);
        let now = self.clock.now_ms();
        let offset = match request
            .query_param("next_page_token")
            .filter(|t| !t.is_empty())
        {
            Some(token) => match self.pages.redeem(listing, &token, now) {
                Some(offset) => offset,
                None => return zoom_error(400, 300, "The next page token is invalid or expired."),
            },
            None => 0,
        };
        let total = items.len();
        let end = (offset + page_size).min(total);
        let next = if end < total {
            self.pages.issue(listing, end, now)
        } else {
            String::new()
        };
        let page: Vec<Value> = items
            .into_iter()
            .skip(offset)
            .take(page_size)
            .map(render)
            .collect();
        FakeResponse::json(
            200,
            &json!({
                "page_size": page_size,
                "total_records": total,
                "next_page_token": next,
                field: page,
            }),
        )
    }
}
