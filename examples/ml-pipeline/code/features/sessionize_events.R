# FEATURES.sessionize_events: cut each customer's web events into sessions.
# Events further apart than the project variable session_gap_minutes start a new session.
library(dataiku)

gap_minutes <- as.numeric(dkuCustomVariable("session_gap_minutes"))

events <- dkuReadDataset("web_events_raw")
events$event_time <- as.POSIXct(events$event_time, tz = "UTC")
events <- events[order(events$customer_id, events$event_time), ]

new_customer <- c(TRUE, diff(events$customer_id) != 0)
gap <- c(Inf, diff(as.numeric(events$event_time)) / 60)
events$session_id <- cumsum(new_customer | gap > gap_minutes)

sessions <- aggregate(
  event_time ~ customer_id + session_id,
  data = events,
  FUN = function(t) as.numeric(max(t) - min(t), units = "mins")
)
names(sessions)[names(sessions) == "event_time"] <- "duration_minutes"

dkuWriteDataset(sessions, "web_sessions")
