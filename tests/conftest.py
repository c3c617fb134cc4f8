"""Shared fixtures: the bundled layers, one synthetic data set, ONE demo run for the whole
session, the real-data folder; and the ``slow`` marker.

Tests write only into temporary folders, never into the repository. Tests that run the whole
demo pipeline (the ``demo_run`` / ``demo_cli`` fixtures), open a browser or read the real
exports are marked ``slow`` here, so ``python3 -m pytest -m "not slow"`` is the quick loop;
CI runs everything.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tempfile
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    """The read-only shared folder: ``$IMPACTZONES_SHARED``, else the first ``shared/``
    beside the repository or one level up (a git worktree sits one level deeper)."""
    if os.environ.get("IMPACTZONES_SHARED"):
        return Path(os.environ["IMPACTZONES_SHARED"])
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared").is_dir():
            return base / "shared"
    return ROOT.parent / "shared"


SHARED = _shared()
REAL = SHARED / "real"
REAL_INCIDENTS = REAL / "incidents" / "slu-soc5650_crime-data-sp22"

#: Browser screenshots, for a person to look at: outside the repository, kept after the run.
ARTIFACTS = Path(
    os.environ.get("IMPACTZONES_ARTIFACTS")
    or Path(tempfile.gettempdir()) / "impactzones-test-artifacts"
)

#: Fixtures that run the whole demo pipeline (once per session, but a minute of work).
SLOW_FIXTURES = {"demo_run", "demo_cli"}

#: Simulations and whole commands measured at several seconds each (16:15 UTC, 2026-12-01),
#: marked here rather than in files their owners were editing; a decorator is better.
SLOW_TESTS = {
    "tests/test_evaluate_series.py::test_no_effect_gives_about_five_percent_false_positives",
    "tests/test_evaluate_series.py::test_planted_drop_is_recovered_with_nominal_coverage",
    "tests/test_compstat.py::test_terminal_tables_fit_80_columns_and_explain_their_terms",
    "tests/test_compstat.py::test_compstat_command",
    "tests/test_compare.py::test_the_p_value_and_the_interval_never_disagree",
    "tests/test_compare.py::test_overdispersed_no_effect_false_positive_rate_is_about_5_percent",
    "tests/test_gistar_inference.py::test_false_discovery_rate_under_complete_spatial_randomness",
    "tests/test_evaluate_cli.py::test_evaluate_writes_json_and_plots",
    # the quick loop's slowest (over about a second each on this 2-core machine, measured with
    # --durations=0); CI runs them all
    "tests/test_security.py::test_zone_names_never_write_outside_out",
    "tests/test_evaluate_harm_cli.py::test_study_file_harm_key",
    "tests/test_bad_inputs.py::test_bad_input",
    "tests/test_other_city.py::test_a_boundary_alone_gives_the_maps_that_need_no_zones",
    "tests/test_readme.py::test_python_example_runs",
    "tests/test_maps.py::test_hostile_strings_are_escaped_in_the_html",
    "tests/test_evaluate_cli.py::test_bad_input_exits_2_with_one_sentence",
    "tests/test_private_rows.py::test_compare_on_the_clean_file_counts_private_rows_as_their_points",
    "tests/test_synth.py::test_deterministic",
    "tests/test_distributed.py::test_distributed_cube_and_tables_equal_the_in_memory_ones",
    "tests/test_distributed.py::test_a_comparison_from_the_distributed_cube_equals_one_from_the_incidents",
    "tests/test_cube_compare.py::test_the_cube_command_end_to_end_from_a_loaded_file",
    "tests/test_cube_compare.py::test_the_compstat_command_reads_a_daily_cube_file",
    "tests/test_maps.py::test_point_layer_is_capped_off_by_default_and_never_sensitive",
    "tests/test_evaluate_cli.py::test_nearrepeat_json_and_files",
    "impactzones/datasets/synth.py::impactzones.datasets.synth.write_partitions",
    "tests/test_hotspots.py::test_gaussian_kde_matches_scikit_learn",
    "tests/test_security.py::test_demo_comparison_files_use_slugs",
    "tests/test_sensitive.py::test_no_private_point_reaches_any_map_or_file",
    "tests/test_private_rows.py::test_compstat_on_the_clean_file_matches_the_points",
    "tests/test_private_rows.py::test_the_demo_on_the_clean_file_counts_private_rows_as_their_points",
    "tests/test_cli.py::test_load_prints_a_tally_that_adds_up",
    "tests/test_maps.py::test_a_city_elsewhere_gets_its_own_base",
    "tests/test_packaging.py::test_wheel_ships_the_layers",
    "tests/test_hotspots.py::test_grid_dbscan_equals_scikit_learn_at_every_cell_size",
    "tests/test_hotspots.py::test_quartic_kde_matches_the_direct_sum",
    "tests/test_cli.py::test_a_city_elsewhere_gets_its_own_utm_zone",
    "impactzones/maps/brief.py::impactzones.maps.brief.write_brief",
    "impactzones/hotspots/registry.py::impactzones.hotspots.registry.run_method",
    "tests/test_distributed.py::test_synth_partitions_from_the_command_line",
    "tests/test_evaluate_cli.py::test_concentration_command",
    "impactzones/evaluate/compare.py::impactzones.evaluate.compare.to_markdown",
    "tests/test_compare.py::test_planted_displacement_is_read_as_displacement",
    "tests/test_private_rows.py::test_another_ring_width_warns_once_and_keeps_citywide",
    "tests/test_synth.py::test_effects_are_parameters_including_displacement",
    "impactzones/evaluate/compare.py::impactzones.evaluate.compare.compare_zones",
    "tests/test_maps.py::test_charts_start_where_the_exports_start",
    "impactzones/distributed.py::impactzones.distributed.summarise_parquet",
    "tests/test_compare.py::test_e_test_false_positive_rate_is_near_5_percent",
    "tests/test_evaluate_harm.py::test_harm_table_from_a_category_comparison",
    "impactzones/evaluate/synthetic_control.py::impactzones.evaluate.synthetic_control.synthetic_control",
    "impactzones/hotspots/registry.py::impactzones.hotspots.registry.headline",
    "tests/test_registry.py::test_toy_method_is_drawn_on_the_maps",
    "tests/test_packaging.py::test_top_level_names_stay_functions_after_their_modules_load",
    "impactzones/evaluate/synthetic_control.py::impactzones.evaluate.synthetic_control.plot_donor_weights",
}


#: Caches that tools keep in the checkout on purpose (and .gitignore names).
CACHES = ("__pycache__/", ".pytest_cache/", ".hypothesis/", ".ruff_cache/", ".mypy_cache/")


def _files_outside_git() -> set[str] | None:
    """Untracked and ignored files in the checkout (caches aside); None outside git."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--ignored",
             "--untracked-files=all", "--", "."],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    files = {line[3:] for line in proc.stdout.splitlines() if line[:2] in ("??", "!!")}
    return {f for f in files if not any(c in f"/{f}" for c in (f"/{c}" for c in CACHES))}


def pytest_sessionstart(session):
    session.config._iz_before = _files_outside_git()


def pytest_sessionfinish(session, exitstatus):
    """Tests write into temporary folders only: name any file that appeared in the checkout
    (a failure in CI, where nobody edits the checkout during the run; a warning elsewhere)."""
    before = getattr(session.config, "_iz_before", None)
    after = _files_outside_git() if before is not None else None
    if before is None or after is None or not (new := sorted(after - before)):
        return
    msg = f"tests wrote into the repository: {', '.join(new[:10])}"
    if os.environ.get("CI"):
        session.exitstatus = 1
        print(f"\nERROR: {msg}")
    else:
        print(f"\nWARNING: {msg} (or they were created by hand during the run)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "real_incidents_dir" in names:
            item.add_marker(pytest.mark.real)
        if (
            names & SLOW_FIXTURES
            or item.nodeid.split("[")[0] in SLOW_TESTS
            or item.get_closest_marker("browser")
            or item.get_closest_marker("real")
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def layers():
    from impactzones.core.geo import st_louis

    return st_louis()


@pytest.fixture(scope="session")
def synth():
    """The default synthetic data set (seed 2018), generated once per test session."""
    from impactzones.datasets.synth import synthesize

    return synthesize(seed=2018)


@pytest.fixture(scope="session")
def assigned(synth, layers):
    from impactzones.assign import assign

    return assign(synth.incidents, layers)


@pytest.fixture(scope="session")
def real_incidents_dir():
    if not REAL_INCIDENTS.is_dir():
        pytest.skip("the real SLMPD samples (../shared/real) are not present")
    return REAL_INCIDENTS


@pytest.fixture(scope="session")
def demo_cli(tmp_path_factory):
    """``impactzones demo --out <tmp> --png-maps``, run ONCE for the whole session, in this
    process (with the PNG pictures of the maps, which the tests of the pictures read).

    Returns ``out`` (the folder), ``stdout`` (what it printed), ``returncode`` and ``result``
    (the :class:`~impactzones.pipeline.DemoResult` the command computed, caught on its way
    from ``run_demo`` to the printer), so the CLI's words, its files and the library's
    objects all come from one run.
    """
    import impactzones.pipeline as pipeline
    from impactzones import cli

    out = tmp_path_factory.mktemp("demo") / "maps"
    caught = []
    real_run_demo = pipeline.run_demo

    def spy(*args, **kwargs):
        caught.append(real_run_demo(*args, **kwargs))
        return caught[-1]

    buf = io.StringIO()
    patched = [m for m in (pipeline, cli) if getattr(m, "run_demo", None) is real_run_demo]
    try:
        for m in patched:
            m.run_demo = spy
        with contextlib.redirect_stdout(buf):
            code = cli.main(["demo", "--out", str(out), "--png-maps"])
    finally:
        for m in patched:
            m.run_demo = real_run_demo
    assert code == 0, buf.getvalue()
    if caught:
        result = caught[-1]
    else:  # the command no longer goes through pipeline.run_demo: pay for a second run
        warnings.warn("demo_cli: `impactzones demo` did not call pipeline.run_demo; "
                      "running it again for the DemoResult (update tests/conftest.py)",
                      stacklevel=1)
        result = real_run_demo(tmp_path_factory.mktemp("demo_again"), seed=2018)
    return SimpleNamespace(out=out, stdout=buf.getvalue(), returncode=code, result=result)


@pytest.fixture(scope="session")
def demo_run(demo_cli):
    """The demo's :class:`~impactzones.pipeline.DemoResult` (seed 2018), from the one
    session run; ``demo_run.files[0].parent`` is its folder."""
    return demo_cli.result


@pytest.fixture(scope="session")
def evil_layers(layers):
    """The St. Louis layers with hostile strings where a user's file could put them."""
    from impactzones.core.geo import Layers

    zones = layers.zones.copy()
    zones.loc[0, "name"] = "<img src=x onerror=window.__xss=1;alert(1)>"
    zones.loc[0, "description"] = "<script>window.__xss=2</script> & \"quotes\""
    nb = layers.neighborhoods.copy()
    nb.loc[0, "name"] = "<b onmouseover=alert(3)>Carondelet</b>"
    d = layers.districts.copy()
    d.loc[0, "name"] = "District <i>1</i>"
    return Layers(boundary=layers.boundary, districts=d, neighborhoods=nb, zones=zones)
