// Top bar (brand, desktop server switcher, search across connections, live-updates indicator, theme toggle) around every screen.
import { Link, Outlet } from "react-router";
import { FailureNotifier } from "../components/FailureNotifier";
import { GlobalSearchButton } from "../components/GlobalSearch";
import { ObserveNav } from "../components/ObserveNav";
import { ThemeToggle } from "../components/ThemeToggle";
import { UserMenu } from "../components/UserMenu";
import { ServerSwitcher } from "../desktop/ServerSwitcher";
import { useLiveStatus } from "../lib/live";

const LIVE_TEXT = { open: "Live", connecting: "Connecting…", down: "Polling" } as const;
const LIVE_TITLE = {
  open: "Receiving changes as they happen",
  connecting: "Connecting to the live event stream",
  down: "Live event stream unavailable; refreshing every few seconds",
} as const;

export function Shell() {
  const live = useLiveStatus();
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand" data-testid="nav-home">
          <span className="logo" aria-hidden="true">M</span> Muster
        </Link>
        <ServerSwitcher />
        <ObserveNav />
        <span className="topbar-spacer" />
        <GlobalSearchButton />
        <span className={`live live-${live}`} title={LIVE_TITLE[live]} data-testid="live-status" data-status={live}>
          <span className="dot" aria-hidden="true" />
          {LIVE_TEXT[live]}
        </span>
        <FailureNotifier />
        <ThemeToggle />
        <UserMenu />
      </header>
      <main id="main" className="main">
        <Outlet />
      </main>
    </div>
  );
}
