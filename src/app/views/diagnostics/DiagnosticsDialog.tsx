import { useState } from 'react';
import type { Diagnostics, MessengerState } from '../../../core/messenger/messenger-api.ts';
import type { LogRecord } from '../../../core/log.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { formatBytes } from '../../components/format.ts';
import { useDiagnostics } from '../../hooks/useDiagnostics.ts';
import { DeviceFacts } from './DeviceFacts.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { downloadText, metricsExport, metricsFileName } from './metrics-export.ts';
import { summarizeMetrics } from './metrics-summary.ts';
import './diagnostics.css';

const selectQueueDepth = (s: MessengerState) => s.queueDepth;
const selectStorage = (s: MessengerState) => s.storage;
const selectContacts = (s: MessengerState) => s.contacts;

const ms = (v: number) => `${Math.round(v)} ms`;

function LogLine({ record }: { readonly record: LogRecord }) {
  const fields = record.fields ? Object.entries(record.fields).map(([k, v]) => `${k}=${String(v)}`) : [];
  return (
    <li className="log-line" data-level={record.level}>
      <time dateTime={new Date(record.time).toISOString()}>{new Date(record.time).toISOString().slice(11, 23)}</time>{' '}
      <span className="log-level">{record.level}</span> <span className="log-scope">{record.scope}</span>{' '}
      <span className="log-msg">{record.msg}</span>
      {fields.length > 0 && <span className="log-fields"> {fields.join(' ')}</span>}
    </li>
  );
}

/** "Export metrics (JSON)" saves a file, "Copy metrics" puts the same JSON on the clipboard. */
function MetricsExportActions({ shown }: { readonly shown: Diagnostics }) {
  const messenger = useMessenger();
  const [done, setDone] = useState('');
  const json = () => {
    let now: Diagnostics = shown;
    try {
      now = messenger.diagnostics(); // the latest, not the last refresh
    } catch {
      // No core in this tab: export what is shown.
    }
    const at = new Date();
    return { at, text: JSON.stringify(metricsExport(now, messenger.getState(), at), null, 2) };
  };
  const save = () => {
    const { at, text } = json();
    const name = metricsFileName(at);
    downloadText(name, text);
    setDone(`Saved ${name}.`);
  };
  const copy = () => {
    const { text } = json();
    const clipboard = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
    if (!clipboard) {
      setDone('Copying is not available here; use Export instead.');
      return;
    }
    clipboard.writeText(text).then(
      () => setDone('Metrics copied.'),
      () => setDone('The metrics could not be copied; use Export instead.'),
    );
  };
  return (
    <div className="diag-export">
      <button type="button" onClick={save}>
        Export metrics (JSON)
      </button>
      <button type="button" onClick={copy}>
        Copy metrics
      </button>
      <p role="status" className="diag-export-status">
        {done}
      </p>
    </div>
  );
}

/** The core's health: queue, breakers, sends, failures, latency, storage and recent logs. */
export function DiagnosticsDialog({ onClose }: { readonly onClose: () => void }) {
  const diagnostics = useDiagnostics();
  const queueDepth = useMessengerState(selectQueueDepth);
  const storage = useMessengerState(selectStorage);
  const summary = summarizeMetrics(diagnostics.metrics);
  const breakers = Object.entries(diagnostics.breakers).sort(([a], [b]) => a.localeCompare(b));
  const contacts = useMessengerState(selectContacts);
  const nameOf = (id: string) => contacts.find((c) => c.id === id)?.displayName || 'Unknown contact';
  const channels = [...(diagnostics.direct ?? [])].sort((a, b) => nameOf(a.contactId).localeCompare(nameOf(b.contactId)) || (a.device ?? '').localeCompare(b.device ?? ''));
  return (
    <Dialog title="Diagnostics" onClose={onClose} className="diagnostics">
      <MetricsExportActions shown={diagnostics} />
      <dl className="diag-facts">
        <dt>Queue depth</dt>
        <dd>{queueDepth}</dd>
        <dt>Retries</dt>
        <dd>{summary.retries}</dd>
        <dt>Failovers</dt>
        <dd>{summary.failovers}</dd>
        <dt>Replays dropped</dt>
        <dd>{summary.replays}</dd>
        <dt>Storage</dt>
        <dd>
          {storage.state}
          {' · '}
          {storage.persisted === undefined ? 'persistence unknown' : storage.persisted ? 'persistent' : 'not persistent (the browser may evict it)'}
          {storage.usage !== undefined && ` · ${formatBytes(storage.usage)} used`}
          {storage.quota !== undefined && ` of ${formatBytes(storage.quota)}`}
        </dd>
      </dl>
      <DeviceFacts metrics={diagnostics.metrics} />

      <h3>Circuit breakers</h3>
      {breakers.length === 0 ? (
        <p>No transports yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Transport</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {breakers.map(([transport, state]) => (
              <tr key={transport}>
                <th scope="row">{transport}</th>
                <td data-breaker={state}>{state.replace('_', '-')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Direct channels</h3>
      {channels.length === 0 ? (
        <p>No direct channels yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Contact</th>
              <th scope="col">Device</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {channels.map((c) => (
              <tr key={`${c.contactId}/${c.device ?? ''}`}>
                <th scope="row">{nameOf(c.contactId)}</th>
                <td>{c.device ? c.device.slice(0, 8) : 'only device'}</td>
                <td data-channel={c.state}>{c.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Sends by transport</h3>
      {summary.sends.length === 0 ? (
        <p>Nothing sent yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Transport</th>
              <th scope="col">Succeeded</th>
              <th scope="col">Failed</th>
            </tr>
          </thead>
          <tbody>
            {summary.sends.map((r) => (
              <tr key={r.transport}>
                <th scope="row">{r.transport}</th>
                <td>{r.success}</td>
                <td>{r.failure}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Failures by reason</h3>
      {summary.failures.length === 0 ? (
        <p>No validation or decryption failures.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Reason</th>
              <th scope="col">Count</th>
            </tr>
          </thead>
          <tbody>
            {summary.failures.map((f) => (
              <tr key={`${f.metric}:${f.reason}`}>
                <td>{f.metric}</td>
                <th scope="row">{f.reason}</th>
                <td>{f.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Delivery latency</h3>
      {summary.latency.length === 0 ? (
        <p>No deliveries measured yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Series</th>
              <th scope="col">Count</th>
              <th scope="col">p50</th>
              <th scope="col">p95</th>
              <th scope="col">p99</th>
            </tr>
          </thead>
          <tbody>
            {summary.latency.map((h) => (
              <tr key={h.series}>
                <th scope="row">{h.series || 'all'}</th>
                <td>{h.count}</td>
                <td>{ms(h.p50)}</td>
                <td>{ms(h.p95)}</td>
                <td>{ms(h.p99)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Recent log</h3>
      {diagnostics.logs.length === 0 ? (
        <p>No log lines yet.</p>
      ) : (
        <ol className="diag-log" aria-label="Recent log lines" tabIndex={0}>
          {diagnostics.logs.map((r, i) => (
            <LogLine key={`${r.time}:${i}`} record={r} />
          ))}
        </ol>
      )}
    </Dialog>
  );
}
