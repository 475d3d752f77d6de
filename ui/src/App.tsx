// Application root: client, signed-in person and live-update providers, router (path-based, deep-linkable), 401 handling.
import { useEffect, useMemo, useState } from "react";
import { createBrowserRouter, RouterProvider } from "react-router";
import type { MusterClient } from "./api/client";
import { LiveProvider } from "./components/LiveProvider";
import { ClientContext } from "./lib/context";
import { ConnectionLayout } from "./screens/ConnectionLayout";
import { ConnectionsScreen } from "./screens/ConnectionsScreen";
import { GroupsScreen } from "./screens/GroupsScreen";
import { MeContext, SignOutContext } from "./auth/me";
import type { Me } from "./api/generated/Me";
import { NotFoundScreen } from "./screens/NotFoundScreen";
import { OverviewScreen } from "./screens/OverviewScreen";
import { Shell } from "./screens/Shell";
import { UsersScreen } from "./screens/UsersScreen";
import { RolesScreen } from "./screens/RolesScreen";
import { TokensScreen } from "./screens/TokensScreen";
import { AttributesScreen } from "./screens/AttributesScreen";
import { LogScreen } from "./screens/LogScreen";
import { TriageScreen } from "./screens/TriageScreen";
import { DemoScreen } from "./screens/DemoScreen";
import { ReadinessScreen } from "./screens/ReadinessScreen";
import { EvidenceScreen } from "./screens/EvidenceScreen";
import { AuditScreen } from "./screens/AuditScreen";
import { SigninScreen } from "./screens/SigninScreen";
import { ServerWebhooksScreen, WebhooksScreen } from "./screens/WebhooksScreen";
import { TeamScreen } from "./screens/TeamScreen";
import { AccountScreen } from "./screens/AccountScreen";

declare global {
  interface Window {
    __MUSTER_ROOT__?: string;
  }
}

function basename(): string {
  const root = window.__MUSTER_ROOT__ ?? "/";
  return root.length > 1 ? root.replace(/\/$/, "") : "/";
}

export function App({ client, onSignedOut }: { client: MusterClient; onSignedOut: (why: string | null) => void }) {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => client.onUnauthorized(() => onSignedOut("Your session has ended (it expired, was revoked, or your account changed). Sign in again.")), [client, onSignedOut]);
  useEffect(() => {
    const ctrl = new AbortController();
    client.me(ctrl.signal).then(setMe, () => undefined);
    return () => ctrl.abort();
  }, [client]);

  const router = useMemo(
    () =>
      createBrowserRouter(
        [
          {
            element: <Shell />,
            children: [
              { index: true, element: <ConnectionsScreen /> },
              {
                path: "connections/:id",
                element: <ConnectionLayout />,
                children: [
                  { index: true, element: <OverviewScreen /> },
                  { path: "users", element: <UsersScreen /> },
                  { path: "groups", element: <GroupsScreen /> },
                  { path: "roles", element: <RolesScreen /> },
                  { path: "tokens", element: <TokensScreen /> },
                  { path: "attributes", element: <AttributesScreen /> },
                  { path: "log", element: <LogScreen /> },
                  { path: "signin", element: <SigninScreen /> },
                  { path: "webhooks", element: <WebhooksScreen /> },
                ],
              },
              { path: "log", element: <LogScreen /> },
              { path: "triage", element: <TriageScreen /> },
              { path: "demo", element: <DemoScreen /> },
              { path: "readiness", element: <ReadinessScreen /> },
              { path: "evidence", element: <EvidenceScreen /> },
              { path: "audit", element: <AuditScreen /> },
              { path: "webhooks", element: <ServerWebhooksScreen /> },
              { path: "team", element: <TeamScreen /> },
              { path: "account", element: <AccountScreen /> },
              { path: "*", element: <NotFoundScreen /> },
            ],
          },
        ],
        { basename: basename() },
      ),
    [],
  );

  return (
    <ClientContext.Provider value={client}>
      <MeContext.Provider value={me}>
        <SignOutContext.Provider value={onSignedOut}>
          <LiveProvider>
            <RouterProvider router={router} />
          </LiveProvider>
        </SignOutContext.Provider>
      </MeContext.Provider>
    </ClientContext.Provider>
  );
}
