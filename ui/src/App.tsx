// Application root: client and live-update providers, router (path-based, deep-linkable), 401 handling.
import { useEffect, useMemo, useState } from "react";
import { createBrowserRouter, RouterProvider } from "react-router";
import type { MusterClient } from "./api/client";
import { LiveProvider } from "./components/LiveProvider";
import { ClientContext } from "./lib/context";
import { ConnectionLayout } from "./screens/ConnectionLayout";
import { ConnectionsScreen } from "./screens/ConnectionsScreen";
import { GroupsScreen } from "./screens/GroupsScreen";
import { NoSecretScreen } from "./screens/NoSecretScreen";
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
import { SigninScreen } from "./screens/SigninScreen";
import { ServerWebhooksScreen, WebhooksScreen } from "./screens/WebhooksScreen";

declare global {
  interface Window {
    __MUSTER_ROOT__?: string;
  }
}

function basename(): string {
  const root = window.__MUSTER_ROOT__ ?? "/";
  return root.length > 1 ? root.replace(/\/$/, "") : "/";
}

export function App({ client }: { client: MusterClient }) {
  const [rejected, setRejected] = useState(false);
  useEffect(() => client.onUnauthorized(() => setRejected(true)), [client]);

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
              { path: "webhooks", element: <ServerWebhooksScreen /> },
              { path: "*", element: <NotFoundScreen /> },
            ],
          },
        ],
        { basename: basename() },
      ),
    [],
  );

  if (rejected) return <NoSecretScreen reason="rejected" />;
  return (
    <ClientContext.Provider value={client}>
      <LiveProvider url={client.eventsUrl()}>
        <RouterProvider router={router} />
      </LiveProvider>
    </ClientContext.Provider>
  );
}
