// Decides what the console shows: enrolment from a link, the sign-in form, or the console itself with the
// credential it holds; a session that ends (expired, revoked, account disabled) returns to sign-in.
import { useMemo, useState } from "react";
import { MusterClient } from "../api/client";
import { rememberSession, type ConsoleConfig } from "../api/config";
import { App } from "../App";
import { NoSecretScreen } from "../screens/NoSecretScreen";
import { EnrolScreen } from "./EnrolScreen";
import { OidcCallback } from "./OidcCallback";
import { SignInScreen } from "./SignInScreen";

export function ConsoleRoot({ config }: { config: ConsoleConfig }) {
  const [credential, setCredential] = useState(config.credential);
  const [enrolment, setEnrolment] = useState(config.enrolment);
  const [email, setEmail] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | null>(null);
  const [secretRejected, setSecretRejected] = useState(false);
  const [callback, setCallback] = useState(() => window.location.pathname === "/auth/callback");
  const client = useMemo(() => (credential ? new MusterClient({ api: config.api, credential }) : null), [config.api, credential]);

  if (enrolment) {
    return (
      <EnrolScreen
        api={config.api}
        enrolment={enrolment}
        onEnrolled={(e) => {
          setEmail(e);
          setEnrolment(null);
          setNotice("Your password is set. Sign in with it.");
        }}
      />
    );
  }
  if (secretRejected) return <NoSecretScreen reason="rejected" />;
  if (callback) {
    return (
      <OidcCallback
        api={config.api}
        onSignedIn={(s) => {
          rememberSession(config.api, s.session);
          setNotice(null);
          setCredential(s.session);
          setCallback(false);
        }}
        onBack={() => setCallback(false)}
      />
    );
  }
  if (!client) {
    return (
      <SignInScreen
        api={config.api}
        notice={notice}
        initialEmail={email}
        onSignedIn={(s) => {
          rememberSession(config.api, s.session);
          setNotice(null);
          setCredential(s.session);
        }}
      />
    );
  }
  return (
    <App
      client={client}
      onSignedOut={(why) => {
        if (!client.signedIn) {
          setSecretRejected(true);
          return;
        }
        rememberSession(config.api, null);
        setNotice(why);
        setCredential(null);
      }}
    />
  );
}
