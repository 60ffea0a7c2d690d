// Site overview: one tile per resident (room/bed) with their most urgent open alarm and the health
// of their devices; each site's gateways are listed above its tiles.
import { useEffect } from 'preact/hooks';
import type { Whereabouts } from '../../../protocol/api.ts';
import { mostUrgentFor } from '../lib/board.ts';
import type { FeedState } from '../lib/feed-state.ts';
import { deviceHealth } from '../lib/health.ts';
import { translateDynamic } from '../lib/i18n.ts';
import { formatAgo } from '../lib/timeago.ts';
import type { Device, Gateway, Resident, Site } from './api-types.ts';
import { useI18n, useSession } from './context.ts';
import { useLoad, useNow } from './hooks.ts';

const compareRooms = (a: Resident, b: Resident) =>
  a.room.localeCompare(b.room, undefined, { numeric: true }) || (a.bed ?? '').localeCompare(b.bed ?? '');

export function Overview(props: { feed: FeedState }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const now = useNow(5000);
  const loaded = useLoad(async () => {
    const [sites, residents, gateways, devices] = await Promise.all([
      api.get<{ sites: Site[] }>('/sites'),
      api.get<{ residents: Resident[] }>('/residents'),
      api.get<{ gateways: Gateway[] }>('/gateways'),
      api.get<{ devices: Device[] }>('/devices'),
    ]);
    // Last known rooms are a help, not a need: the overview shows without them.
    const seen = await api.get<{ residents: Whereabouts[] }>('/whereabouts').catch(() => ({ residents: [] as Whereabouts[] }));
    const whereabouts = new Map(seen.residents.map((w) => [w.residentId, w]));
    return { sites: sites.sites, residents: residents.residents, gateways: gateways.gateways, devices: devices.devices, whereabouts };
  }, [api]);
  // Registry data changes rarely; the live parts (alarms, device status) come from the feed.
  useEffect(() => {
    const id = setInterval(loaded.reload, 60_000);
    return () => clearInterval(id);
  }, [loaded.reload]);

  if (!loaded.data) return <p class="empty">{loaded.error ? t('admin.error', { message: loaded.error }) : t('app.loading')}</p>;
  const { sites, residents, gateways, devices, whereabouts } = loaded.data;
  const alarms = [...props.feed.alarms.values()];
  // A family account sees its relative but not the site list.
  const siteIds = [...new Set([...sites.map((s) => s.id), ...residents.map((r) => r.siteId)])];

  if (residents.length === 0) return <p class="empty">{t('overview.empty')}</p>;
  return (
    <section class="overview">
      {siteIds.map((siteId) => {
        const site = sites.find((s) => s.id === siteId);
        const siteResidents = residents.filter((r) => r.siteId === siteId).sort(compareRooms);
        if (siteResidents.length === 0) return null;
        return (
          <div class="site" key={siteId}>
            <div class="site-head">
              <h2>{site?.name ?? siteId}</h2>
              {gateways
                .filter((g) => g.siteId === siteId)
                .map((g) => {
                  const state = props.feed.gateways.get(g.id)?.state ?? g.state;
                  const offline = state === 'offline' || alarms.some((a) => a.type === 'gateway_offline' && a.gatewayId === g.id);
                  return (
                    <span class={offline ? 'gw gw-offline' : 'gw gw-online'} key={g.id} data-testid="gateway-status">
                      <span class="dot" aria-hidden="true" />
                      {t('gateway.label', { name: g.name })} · {offline ? t('device.offline') : t('device.online')}
                    </span>
                  );
                })}
            </div>
            <div class="tiles">
              {siteResidents.map((r) => {
                const alarm = mostUrgentFor(alarms, r.id);
                const own = devices.filter((d) => d.residentId === r.id);
                return (
                  <a
                    href={`#/resident/${encodeURIComponent(r.id)}`}
                    class={`tile ${alarm ? `tile-alarm prio-${alarm.priority} state-${alarm.state}` : 'tile-ok'}`}
                    key={r.id}
                    data-testid="resident-tile"
                  >
                    <div class="tile-room">
                      {t('card.room', { room: r.room })}
                      {r.bed ? ` · ${t('card.bed', { bed: r.bed })}` : ''}
                    </div>
                    <div class="tile-name">{r.name}</div>
                    <div class="tile-alarm-line">
                      {alarm ? (
                        <>
                          <strong>{translateDynamic(lang, `alarm.${alarm.type}`, alarm.type)}</strong> · {t(`state.${alarm.state}`)} ·{' '}
                          {formatAgo(alarm.raisedAt, now, lang)}
                        </>
                      ) : (
                        <>✓ {t('overview.all_ok')}</>
                      )}
                    </div>
                    <LastSeen where={whereabouts.get(r.id)} now={now} />
                    <ul class="tile-devices">
                      {own.length === 0 && <li class="muted">{t('overview.no_devices')}</li>}
                      {own.map((d) => {
                        const h = deviceHealth(d, props.feed.devices.get(d.id), alarms);
                        return (
                          <li class={`dev dev-${h.condition}`} key={d.id}>
                            <span class="dot" aria-hidden="true" />
                            <span class="dev-kind">{translateDynamic(lang, `kind.${d.kind}`, d.kind)}</span>
                            <span class="dev-state">{t(`device.${h.condition}`)}</span>
                            {h.battery !== null && (
                              <span class={h.lowBattery ? 'dev-batt low' : 'dev-batt'}>
                                {t('device.battery', { pct: Math.round(h.battery) })}
                              </span>
                            )}
                          </li>
                        );
                      })}
                    </ul>
                  </a>
                );
              })}
            </div>
          </div>
        );
      })}
    </section>
  );
}

/** The resident's last known room (per-room presence, bed and door data), and whether in bed. */
function LastSeen(props: { where: Whereabouts | undefined; now: number }) {
  const { t, lang } = useI18n();
  const w = props.where;
  if (!w?.lastRoom || !w.lastMotionAt) return null;
  return (
    <div class="tile-last-seen" data-testid="last-seen">
      {w.inBed ? `${t('overview.in_bed')} · ` : ''}
      {t('overview.last_seen', { room: w.lastRoom, ago: formatAgo(w.lastMotionAt, props.now, lang) })}
    </div>
  );
}
