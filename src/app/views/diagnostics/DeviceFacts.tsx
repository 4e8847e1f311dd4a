import { useEffect } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import type { MetricsSnapshot } from '../../../core/metrics.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';

const selectDevices = (s: MessengerState) => s.devices;

/** Diagnostics per device (issue 16): this device's id, the account's devices, and the `devices.*` counters. */
export function DeviceFacts({ metrics }: { readonly metrics: MetricsSnapshot }) {
  const messenger = useMessenger();
  const devices = useMessengerState(selectDevices);
  useEffect(() => {
    messenger.listDevices().catch(() => undefined);
  }, [messenger]);
  const self = devices?.find((d) => d.thisDevice);
  const counters = Object.entries(metrics.counters)
    .filter(([name]) => name.startsWith('devices.'))
    .sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <h3>Devices</h3>
      <dl className="diag-facts">
        <dt>This device</dt>
        <dd>{self ? self.id : 'not known yet'}</dd>
        <dt>Devices of this account</dt>
        <dd>{devices ? `${devices.length}: ${devices.map((d) => d.id.slice(0, 8)).join(', ')}` : 'not known yet'}</dd>
      </dl>
      {counters.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Device counter</th>
              <th scope="col">Count</th>
            </tr>
          </thead>
          <tbody>
            {counters.map(([name, count]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
