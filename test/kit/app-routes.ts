// Every route the node's app registers (method and fastify URL pattern, HEAD included), listed from
// buildApp's app with inert parts: what the auth tests check the rules and samples against.
import { buildInertApp } from '../../src/api/openapi-document.js';

export interface AppRoute {
  readonly method: string;
  readonly url: string;
}

export async function appRoutes(extra?: (app: ReturnType<typeof buildInertApp>) => void): Promise<AppRoute[]> {
  const app = buildInertApp();
  const routes: AppRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  extra?.(app);
  try {
    await app.ready();
  } finally {
    await app.close();
  }
  return routes;
}
