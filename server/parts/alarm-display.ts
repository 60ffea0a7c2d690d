// An alarm change, from this instance or another, for this instance's screens and gateways: the
// live feed, the kept alarm pages, and the gateway's local alarm once a person has taken it.
import { type Alarm, type Clock, gatewayTopic } from '../../protocol/index.ts';
import type { AlarmPageCache } from '../http/alarm-page-cache.ts';
import type { Metrics } from '../metrics.ts';
import type { Feed } from '../ws/feed.ts';
import type { GatewayLink } from './gateway-link.ts';

export function createAlarmDisplay(deps: {
  feed: Feed;
  alarmPages: AlarmPageCache;
  gateways: GatewayLink;
  metrics: Metrics;
  clock: Clock;
}) {
  const { feed, alarmPages, gateways } = deps;
  function show(a: Alarm, fromHere: boolean) {
    alarmPages.changed();
    feed.publishAlarm(a);
    // The gateway clears its local alarm for the device once a person has taken it. With one broker
    // for all, the instance that changed the alarm tells it; with a broker each, every instance
    // tells its own (only the one the gateway is connected to has it).
    if ((fromHere || !gateways.shared) && a.state !== 'active' && a.siteId && a.gatewayId && a.deviceId) {
      gateways.publish(
        gatewayTopic(a.siteId, a.gatewayId, 'cmd'),
        JSON.stringify({ v: 1, type: 'alarm_ack', alarmId: a.id, deviceId: a.deviceId, state: a.state }),
      );
    }
  }
  return {
    show,
    /** Alarms this instance changed: shown, and a new one's time from event to screen measured. */
    changedHere(changed: Alarm[]) {
      for (const a of changed) {
        show(a, true);
        if (a.count === 1 && a.state === 'active' && a.escalationLevel === 0) {
          deps.metrics.alarmToScreen.observe(Math.max(0, deps.clock.now() - Date.parse(a.lastEventAt)) / 1000);
        }
      }
    },
  };
}
export type AlarmDisplay = ReturnType<typeof createAlarmDisplay>;
