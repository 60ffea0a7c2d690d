// What the registry pages read together: sites, residents, gateways and devices (and, for the
// users page, accounts), with the choices the forms offer for a site, gateway or resident field.
import type { User } from '../../../../protocol/api.ts';
import type { Device, Gateway, Resident, Site } from '../api-types.ts';
import { useSession } from '../context.ts';
import type { Choice } from '../forms/SchemaForm.tsx';
import { useLoad } from '../hooks.ts';

export interface RegistryData {
  sites: Site[];
  residents: Resident[];
  gateways: Gateway[];
  devices: Device[];
}

export function useRegistryData() {
  const { api } = useSession();
  return useLoad<RegistryData>(async () => {
    const [s, r, g, d] = await Promise.all([
      api.get<{ sites: Site[] }>('/sites'),
      api.get<{ residents: Resident[] }>('/residents'),
      api.get<{ gateways: Gateway[] }>('/gateways'),
      api.get<{ devices: Device[] }>('/devices'),
    ]);
    return { sites: s.sites, residents: r.residents, gateways: g.gateways, devices: d.devices };
  }, [api]);
}

export function useUsers() {
  const { api } = useSession();
  return useLoad(async () => (await api.get<{ users: User[] }>('/users')).users, [api]);
}

const siteName = (data: RegistryData, id: string) => data.sites.find((s) => s.id === id)?.name ?? id;

export const siteChoices = (data: RegistryData): Choice[] => data.sites.map((s) => ({ value: s.id, label: `${s.name} (${s.id})` }));
export const gatewayChoices = (data: RegistryData): Choice[] =>
  data.gateways.map((g) => ({ value: g.id, label: `${g.name} · ${siteName(data, g.siteId)} (${g.id})` }));
export const residentChoices = (data: RegistryData, siteId?: string): Choice[] =>
  data.residents
    .filter((r) => !siteId || r.siteId === siteId)
    .map((r) => ({ value: r.id, label: `${r.name} · ${r.room}${r.bed ? `-${r.bed}` : ''} · ${siteName(data, r.siteId)}` }));

export { siteName };
