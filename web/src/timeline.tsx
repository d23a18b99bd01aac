// The shipment timeline: a shipment's tracking events (Cargo-iQ milestones
// for air cargo, courier scans otherwise) in time order on a line, the latest
// marked as now, and the flight it is booked on with that flight's capacity.
// Shown on a shipment's record page, under its fields.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "./api";
import { href } from "./router";
import { can } from "./schema";
import type { Ctx } from "./shell";

// What the Cargo-iQ codes mean to a reader (the API keeps the codes).
const MILESTONES: Record<string, string> = {
  BKD: "Booked",
  FWB: "Air waybill data received",
  RCS: "Received from shipper",
  FOH: "Freight on hand",
  PRE: "Prepared for loading",
  MAN: "Manifested",
  DEP: "Departed",
  TFD: "Transferred to another airline",
  RCT: "Received from another airline",
  ARR: "Arrived",
  RCF: "Received from flight",
  NFD: "Consignee notified",
  AWD: "Documents delivered",
  CCD: "Cleared by customs",
  DLV: "Delivered",
  DIS: "Discrepancy",
};

interface Event {
  id: string;
  event_code: string;
  event_description?: string;
  event_location?: string;
  event_datetime: string;
  status?: string;
}

interface Flight {
  id: string;
  flight_number: string;
  origin_airport: string;
  destination_airport: string;
  departure_time?: string;
  status: string;
  capacity_kg?: number;
  booked_kg?: number;
  available_kg?: number;
}

const when = (ts: string) => new Date(ts).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

export function ShipmentTimeline(props: { ctx: Ctx; shipment: Record<string, any> }) {
  const { ctx, shipment } = props;
  const [events, setEvents] = useState<Event[] | null>(null);
  const [flight, setFlight] = useState<Flight | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seeEvents = ctx.tables.has("tracking_events");
  const seeFlight = ctx.tables.has("flight_schedules") && !!shipment.flight_schedule_id;
  useEffect(() => {
    if (seeEvents)
      api<{ data: Event[] }>("GET", `/api/v1/tracking_events${qs({ shipment_id: shipment.id, sort: "event_datetime", limit: "200" })}`)
        .then((r) => setEvents(r.data.data))
        .catch((e: ApiError) => setError(e.message));
    if (seeFlight)
      api<Flight>("GET", `/api/v1/flight_schedules/${encodeURIComponent(shipment.flight_schedule_id)}`)
        .then((r) => setFlight(r.data))
        .catch((e: ApiError) => setError(e.message));
  }, [shipment.id, shipment.version]);
  if (!seeEvents && !seeFlight) return null;
  const used = flight && flight.capacity_kg ? Math.min(100, Math.round((100 * (flight.booked_kg || 0)) / flight.capacity_kg)) : null;
  return (
    <section class="timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Shipment timeline</h2>
      {error && <p class="banner error" role="alert">{error}</p>}
      {flight && (
        <div class="card flight" aria-label="Booked flight">
          <p>
            <strong>
              {can(ctx.me, "flights.view") ? (
                <a href={href({ kind: "record", table: "flight_schedules", id: flight.id })}>{flight.flight_number}</a>
              ) : (
                flight.flight_number
              )}
            </strong>{" "}
            {flight.origin_airport} → {flight.destination_airport}
            {flight.departure_time && <> · departs {when(flight.departure_time)}</>} · {flight.status}
          </p>
          {used !== null && (
            <p>
              <label for="flight-load">Capacity</label>{" "}
              <meter id="flight-load" min={0} max={100} value={used} high={90}>{used}%</meter>{" "}
              <span data-capacity>
                {flight.booked_kg ?? 0} of {flight.capacity_kg} kg booked · {flight.available_kg ?? 0} kg free
              </span>
            </p>
          )}
        </div>
      )}
      {events && events.length === 0 && <p class="muted">No tracking events yet.</p>}
      {events && events.length > 0 && (
        <ol class="line" aria-label="Milestones">
          {events.map((e, i) => (
            <li key={e.id} class={i === events.length - 1 ? "now" : ""} aria-current={i === events.length - 1 ? "step" : undefined}>
              <span class="code">{e.event_code}</span>
              <span class="what">{MILESTONES[e.event_code] || e.event_description || e.event_code}</span>
              <span class="where">{e.event_location}</span>
              <time dateTime={e.event_datetime}>{when(e.event_datetime)}</time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
