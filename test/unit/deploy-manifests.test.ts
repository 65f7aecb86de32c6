// docker-compose.yml and deploy/k8s/ (issue 16, points 2 and 3), without Docker or a cluster: the
// parsed YAML is checked for the wiring a typo breaks silently (selectors, ports, probes, volumes,
// secrets, grace periods, the kustomization's file list), then every node command in them is RUN the
// way Docker and Kubernetes would run it, through `kvorum start --check-config` (npm run build first),
// for the compose nodes and StatefulSet ordinals 0..3 (3 joins). Mutated copies prove it can fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backgroundRpcTimeoutMs, shutdownGraceMs } from '../../src/core/limits.js';
import { appRoutes } from '../kit/app-routes.js';
import {
  composeCommand,
  dockerfileRuntime,
  expandK8s,
  k8sDir,
  k8sManifests,
  remap,
  run,
  statefulSetCommand,
  yamlDocs,
  type Doc,
  type RunResult,
} from '../kit/deploy-commands.js';
import { repoRoot } from '../kit/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'kvorum-deploy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
const compose: Doc = yamlDocs(composeText)[0];
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const runtime = dockerfileRuntime(dockerfile);
const manifests = k8sManifests();
const objects = [...manifests.values()].flat();
const one = (kind: string, list: readonly Doc[] = objects) => {
  const found = list.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};
const sts = one('StatefulSet');
const pod = sts.spec.template.spec;
const container = pod.containers[0];
const services = objects.filter((o) => o.kind === 'Service');
const seeds = 3;
const namespace = 'kv-test';

/**
 * A node may take this long to stop after SIGTERM: in-flight requests (shutdownGraceMs), then the
 * peer pools close (their in-flight RPCs end within backgroundRpcTimeoutMs), then storage closes
 * (staged commits and a WAL checkpoint: allowed as much again). The grace periods must exceed it.
 */
const shutdownBoundMs = 2 * (shutdownGraceMs + backgroundRpcTimeoutMs);

const subset = (labels: Record<string, string>, of: Record<string, string>) => Object.entries(labels).every(([k, v]) => of[k] === v);
const durationMs = (text: string) => {
  const m = /^([0-9]+)(s|m)$/.exec(text);
  assert.ok(m, `duration ${text}`);
  return Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
};
/** The value after `flag` in argv. */
const flagValue = (argv: readonly string[], flag: string) => {
  const at = argv.lastIndexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
};

/** The --check-config run must succeed: its JSON parsed, the secret never printed. */
function expectValid(result: RunResult, secret: string): Doc {
  assert.equal(result.status, 0, `${result.argv.join(' ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), 'the secret is never printed');
  const out = JSON.parse(result.stdout);
  assert.equal(out.valid, true);
  assert.equal(out.config.secret.redacted, true);
  return out.config;
}

describe('deploy/k8s manifests', () => {
  it('the kustomization lists every manifest, and only those', () => {
    const kustomization = yamlDocs(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8'))[0];
    const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...kustomization.resources].sort(), files.sort());
    assert.equal(kustomization.namespace, undefined, 'namespace-agnostic');
    for (const o of objects) assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name} names no namespace`);
  });

  it('selectors match the pod template: StatefulSet, both Services, the PDB', () => {
    const labels = sts.spec.template.metadata.labels;
    assert.ok(subset(sts.spec.selector.matchLabels, labels));
    assert.equal(services.length, 2);
    for (const svc of services) assert.ok(subset(svc.spec.selector, labels), `Service ${svc.metadata.name}`);
    const pdb = one('PodDisruptionBudget');
    assert.ok(subset(pdb.spec.selector.matchLabels, labels));
    assert.equal(pdb.spec.maxUnavailable, 1);
  });

  it('serviceName is the headless Service, which publishes starting pods', () => {
    const headless = services.find((s) => s.metadata.name === sts.spec.serviceName);
    assert.ok(headless, `a Service named ${sts.spec.serviceName}`);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    const client = services.find((s) => s !== headless);
    assert.notEqual(client.spec.clusterIP, 'None');
    assert.notEqual(client.spec.publishNotReadyAddresses, true, 'clients only reach ready nodes');
  });

  it('ports: --listen, the container port and every Service targetPort agree', () => {
    const port = Number(flagValue(container.args, '--listen')?.split(':')[1]);
    assert.equal(port, 7001);
    const named = new Map((container.ports as Doc[]).map((p) => [p.name, p.containerPort]));
    assert.deepEqual([...named.values()], [port]);
    for (const svc of services) {
      for (const p of svc.spec.ports) assert.equal(named.get(p.targetPort) ?? p.targetPort, port, `Service ${svc.metadata.name}`);
    }
  });

  it('probes GET a route the app serves, on the container port', async () => {
    const routes = await appRoutes();
    const ports = new Set((container.ports as Doc[]).flatMap((p) => [p.name, p.containerPort]));
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const get = container[probe]?.httpGet;
      assert.ok(get, `${probe} is an httpGet`);
      assert.ok(routes.some((r) => r.method === 'GET' && r.url === get.path), `${probe} ${get.path} is a route`);
      assert.ok(ports.has(get.port), `${probe} port ${get.port}`);
    }
    assert.equal(container.readinessProbe.httpGet.path, '/health');
  });

  it('the node outlives nothing: grace period, non-root, data volume, ConfigMap and Secret wired', () => {
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > shutdownBoundMs, `terminationGracePeriodSeconds > ${shutdownBoundMs} ms`);
    assert.match(dockerfile, /\nUSER node\n/);
    assert.equal(pod.securityContext.runAsUser, 1000, 'the image\'s node user');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    const mounts = new Map((container.volumeMounts as Doc[]).map((m) => [m.mountPath, m.name]));
    const claims = (sts.spec.volumeClaimTemplates as Doc[]).map((c) => c.metadata.name);
    assert.ok(claims.includes(mounts.get(flagValue(container.args, '--data-dir')!)), '--data-dir is the claim\'s mount');
    for (const volume of pod.volumes as Doc[]) {
      assert.ok([...mounts.values()].includes(volume.name), `volume ${volume.name} is mounted`);
      if (volume.configMap) one('ConfigMap', objects.filter((o) => o.metadata.name === volume.configMap.name));
      if (volume.secret) {
        one('Secret', objects.filter((o) => o.metadata.name === volume.secret.secretName));
        assert.equal(volume.secret.defaultMode, 0o440, 'the secret: readable by the fsGroup, by no one else');
      }
    }
  });

  it('kubectl kustomize builds it, with every object (skipped without kubectl)', (t) => {
    if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0) return t.skip('no kubectl here');
    const built = spawnSync('kubectl', ['kustomize', k8sDir], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const names = (list: readonly Doc[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    const rendered = yamlDocs(built.stdout);
    assert.deepEqual(names(rendered), names(objects));
    const renderedSts = one('StatefulSet', rendered);
    assert.equal(renderedSts.spec.template.spec.volumes.find((v: Doc) => v.secret).secret.defaultMode, 0o440);
    assert.deepEqual(renderedSts.spec.template.spec.containers[0].args, container.args, 'kustomize leaves the node\'s flags alone');
  });
});

describe('docker-compose.yml', () => {
  const names = Object.keys(compose.services);

  it('three nodes, each with its own named volume at /data, a health check, the secret and loopback ports', () => {
    assert.deepEqual(names, ['kv1', 'kv2', 'kv3']);
    const peers = names.map((n) => `${n}=http://${n}:7001`).join(',');
    names.forEach((name, i) => {
      const svc = compose.services[name];
      assert.deepEqual(svc.volumes, [`${name}-data:/data`]);
      assert.ok(Object.hasOwn(compose.volumes, `${name}-data`), 'a declared named volume');
      assert.match(svc.healthcheck.test.join(' '), /127\.0\.0\.1:7001\/health/);
      assert.deepEqual(svc.ports, [`127.0.0.1:${7001 + i}:7001`]);
      assert.equal(svc.environment.KVORUM_ID, name);
      assert.equal(flagValue(svc.command, '--advertise'), `http://${name}:7001`);
      assert.equal(flagValue(svc.command, '--peers'), peers);
      for (const secret of svc.secrets) assert.ok(Object.hasOwn(compose.secrets, secret), `secret ${secret} is declared`);
      assert.equal(flagValue(svc.command, '--secret-file'), `/run/secrets/${svc.secrets[0]}`);
      assert.ok(durationMs(svc.stop_grace_period) > shutdownBoundMs, 'stop_grace_period > the node\'s shutdown');
      assert.ok(svc.restart);
    });
    assert.match(runtime.entrypoint.join(' '), /--listen 0\.0\.0\.0:7001 /);
    assert.match(dockerfile, /\nVOLUME \/data\n/);
    assert.match(dockerfile, /\nHEALTHCHECK [^\n]*\n[^\n]*127\.0\.0\.1:7001\/health/);
  });

  it('docker compose config accepts it (skipped where no compose plugin is installed)', (t) => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.status !== 0) return t.skip('no `docker compose` here');
    // A copy with the secret file it names (not in git) and the build context's Dockerfile.
    const project = join(tmp, 'compose-project');
    mkdirSync(join(project, 'secrets'), { recursive: true });
    writeFileSync(join(project, 'secrets', 'kvorum-secret'), 'x\n');
    cpSync(join(repoRoot, 'Dockerfile'), join(project, 'Dockerfile'));
    cpSync(join(repoRoot, 'docker-compose.yml'), join(project, 'docker-compose.yml'));
    const result = spawnSync('docker', ['compose', '-f', join(project, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });
});

describe('every node command passes kvorum start --check-config', () => {
  it('the compose nodes, through the image\'s ENTRYPOINT and ENV', () => {
    for (const name of Object.keys(compose.services)) {
      const { argv, env, mounts } = composeCommand(compose, name, runtime, tmp);
      const config = expectValid(run([...argv, '--check-config'], env), 'compose-secret-');
      assert.equal(config.id, name);
      assert.equal(config.listen, '0.0.0.0:7001');
      assert.equal(config.advertise, `http://${name}:7001`);
      assert.equal(config.dataDir, mounts.get('/data'));
      assert.equal(Object.keys(config.peers).length, 3);
      assert.match(config.secret.from, /^--secret-file .*kvorum_secret$/);
    }
  });

  for (const ordinal of [0, 1, 2, 3]) {
    it(`StatefulSet pod kvorum-${ordinal}: ${ordinal < seeds ? 'a seed with --peers' : 'joins through the client Service'}`, () => {
      const { argv, env, podName } = statefulSetCommand(objects, ordinal, namespace, join(tmp, 'k8s'));
      const secret = one('Secret').stringData.secret as string;
      const config = expectValid(run([...argv, '--check-config'], env), secret);
      const domain = `kvorum-headless.${namespace}.svc.cluster.local`;
      assert.equal(config.id, podName);
      assert.equal(config.advertise, `http://${podName}.${domain}:7001`);
      assert.equal(config.partitions, 64, 'the ConfigMap\'s file was read');
      assert.equal(config.sync, 'full');
      assert.match(config.secret.from, /^--secret-file .*\/secret$/);
      if (ordinal < seeds) {
        assert.equal(config.join, null);
        assert.deepEqual(config.peers, Object.fromEntries([0, 1, 2].map((i) => [`kvorum-${i}`, `http://kvorum-${i}.${domain}:7001`])));
      } else {
        const client = services.find((s) => s.metadata.name !== sts.spec.serviceName);
        assert.equal(config.join, `http://${client.metadata.name}.${namespace}.svc.cluster.local:${client.spec.ports[0].port}`);
        assert.deepEqual(Object.keys(config.peers), [podName]);
      }
    });
  }
});

describe('the check can fail', () => {
  it('a mutated manifest is refused: exit 1 and the reason', () => {
    const dir = join(tmp, 'mutated');
    cpSync(k8sDir, dir, { recursive: true });
    const path = join(dir, 'configmap.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"partitions": 64', '"partitions": 63'));
    const bad = [...k8sManifests(dir).values()].flat();
    const { argv, env } = statefulSetCommand(bad, 0, namespace, join(tmp, 'k8s-mutated'));
    const result = run([...argv, '--check-config'], env);
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stderr, /partitions must be a power of two, got 63/);
    assert.equal(result.stdout, '');
  });

  it('a compose node advertising another URL than its --peers entry is refused', () => {
    const bad = structuredClone(compose);
    bad.services.kv2.command[bad.services.kv2.command.indexOf('--advertise') + 1] = 'http://kv9:7001';
    const { argv, env } = composeCommand(bad, 'kv2', runtime, join(tmp, 'compose-mutated'));
    const result = run([...argv, '--check-config'], env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /--advertise http:\/\/kv9:7001 differs from this node's --peers entry/);
  });

  it('the emulation: $(VAR) expansion and mount remapping', () => {
    assert.equal(expandK8s('$(A)-$(B)-$$(A)-$(C)', { A: 'x', B: 'y' }), 'x-y-$(A)-$(C)');
    const mounts = new Map([['/data', '/t/d'], ['/etc/kvorum', '/t/c'], ['/etc/kvorum-secret', '/t/s'], ['/tmp', '/t/tmp']]);
    assert.equal(remap('--data-dir /data "$@" /etc/kvorum/k.json /etc/kvorum-secret/secret /datax /tmp', mounts), '--data-dir /t/d "$@" /t/c/k.json /t/s/secret /datax /t/tmp');
  });
});
