"""Images made from uploads (issue #12): creating an `images` row from an
uploaded picture queues the images.process job, which reads the size with
libvips and stores a thumbnail (at most 256 px a side) and a compressed copy as
files of their own; GET /api/v1/images/{id}/thumbnail and .../compressed serve
them with the image's own permission (ob_resource.variants). One primary image
per entity (ob_column.sole_per: setting one unsets the other) and the gallery
in sort_order per entity. Both engines."""
import concurrent.futures
import hashlib
import uuid

import helpers as h
import media_helpers as m

API = "/api/v1"


def _image(c, entity, content, **extra):
    f = h.upload_file(c, content, name="photo.png", ctype="image/png")
    body = {"entity_type": "product", "entity_id": entity, "file_id": f["id"], **extra}
    return h.create(c, "images", body), f


def _processed(c, img):
    return m.wait_row(c, "images", img["id"], lambda r: r["thumbnail_file_id"] is not None, "the thumbnail")


def test_a_thumbnail_and_a_compressed_copy_are_made(acme_owner, acme_viewer, acme_agent, globex_owner):
    entity = str(uuid.uuid4())
    img, f = _image(acme_owner, entity, m.png(600, 300, seed=1), alt_text="a gradient")
    assert img["width"] is None and img["thumbnail_path"] is None
    img = _processed(acme_owner, img)
    assert (img["width"], img["height"]) == (600, 300)
    assert img["compressed_file_id"] is not None

    # the thumbnail: a JPEG of at most 256 px a side, the aspect kept
    r = acme_viewer.get(f"{API}/images/{img['id']}/thumbnail")
    assert r.status_code == 200, h.show(r)
    assert r.headers["content-type"] == "image/jpeg"
    assert m.jpeg_size(r.content) == (256, 128)
    sha = hashlib.sha256(r.content).hexdigest()
    assert r.headers["etag"] == f'"{sha}"'
    assert img["thumbnail_path"] == f"{sha[:2]}/{sha}"
    assert r.headers["content-disposition"].startswith('attachment; filename="photo.thumbnail.jpg"')
    # ranges and revalidation as for any content
    r2 = acme_viewer.get(f"{API}/images/{img['id']}/thumbnail", headers={"Range": "bytes=0-1"})
    assert r2.status_code == 206 and r2.content == b"\xff\xd8"
    assert acme_viewer.get(f"{API}/images/{img['id']}/thumbnail",
                           headers={"If-None-Match": f'"{sha}"'}).status_code == 304

    # the compressed copy: full size
    r = acme_owner.get(f"{API}/images/{img['id']}/compressed")
    assert r.status_code == 200, h.show(r)
    assert m.jpeg_size(r.content) == (600, 300)
    csha = hashlib.sha256(r.content).hexdigest()
    assert img["compressed_path"] == f"{csha[:2]}/{csha}"
    # the original is untouched
    r = acme_owner.get(f"{API}/images/{img['id']}/content")
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == f["sha256"]

    # the made files are files rows of their own, the server's
    made = h.get(acme_owner, "files", img["thumbnail_file_id"])
    assert made["mime_type"] == "image/jpeg" and made["purpose"] == "thumbnail" and made["sha256"] == sha
    # the job that made them is done
    jobs = [j for j in m.jobs_of(acme_owner, "images.process") if img["id"] in str(j.get("payload"))]
    assert [j["status"] for j in jobs] == ["done"], jobs

    # the image's permission and tenant: an agent has no images.view, another tenant has no image
    h.expect_error(acme_agent.get(f"{API}/images/{img['id']}/thumbnail"), 403, "forbidden")
    h.expect_error(globex_owner.get(f"{API}/images/{img['id']}/thumbnail"), 404, "not_found")
    h.expect_error(globex_owner.get(f"{API}/images/{img['id']}/compressed"), 404, "not_found")


def test_the_made_columns_are_the_servers(acme_owner, acme_viewer):
    f = h.upload_file(acme_owner, m.png(40, 20, seed=2), name="p.png", ctype="image/png")
    base = {"entity_type": "product", "entity_id": str(uuid.uuid4()), "file_id": f["id"]}
    for field, value in (("width", 10), ("height", 10), ("thumbnail_path", "x"), ("compressed_path", "x"),
                         ("thumbnail_file_id", f["id"]), ("compressed_file_id", f["id"])):
        h.expect_error(acme_owner.post(f"{API}/images", json={**base, field: value}), 400, "readonly_field")
    assert h.rows_where(acme_owner, "images", entity_id=base["entity_id"]) == []
    img = h.create(acme_owner, "images", base)
    h.expect_error(acme_owner.patch(f"{API}/images/{img['id']}", json={"width": 1}), 400, "readonly_field")
    # a viewer may look, not add
    h.expect_error(acme_viewer.post(f"{API}/images", json=base), 403, "forbidden")
    # a small image keeps its size: the thumbnail is never enlarged
    img = _processed(acme_owner, img)
    r = acme_owner.get(f"{API}/images/{img['id']}/thumbnail")
    assert r.status_code == 200 and m.jpeg_size(r.content) == (40, 20)


def test_an_image_without_a_picture_has_no_thumbnail(acme_owner):
    # a PDF is an allowed upload but no picture: no job, no thumbnail, 404
    f = h.upload_file(acme_owner)
    img = h.create(acme_owner, "images", {"entity_type": "product", "entity_id": str(uuid.uuid4()),
                                          "file_id": f["id"]})
    assert not [j for j in m.jobs_of(acme_owner, "images.process") if img["id"] in str(j.get("payload"))]
    h.expect_error(acme_owner.get(f"{API}/images/{img['id']}/thumbnail"), 404, "not_found")
    h.expect_error(acme_owner.get(f"{API}/images/{h.MISSING_ID}/thumbnail"), 404, "not_found")


def _primaries(c, entity):
    return [r["id"] for r in h.rows_where(c, "images", entity_id=entity) if r["is_primary"]]


def test_one_primary_image_per_entity(acme_owner):
    content = m.png(8, 8, seed=3)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    i1, _ = _image(acme_owner, a, content, is_primary=True)
    i2, _ = _image(acme_owner, a, content)
    other, _ = _image(acme_owner, b, content, is_primary=True)
    assert _primaries(acme_owner, a) == [i1["id"]]
    # a new primary unsets the old one, as an audited update of it
    i3, _ = _image(acme_owner, a, content, is_primary=True)
    assert _primaries(acme_owner, a) == [i3["id"]]
    old = h.get(acme_owner, "images", i1["id"])
    assert old["is_primary"] is False and old["version"] > i1["version"]
    assert any(r["action"] == "update" for r in h.audit_rows(acme_owner, entity_type="images", entity_id=i1["id"]))
    # so does a PATCH
    h.ok(acme_owner.patch(f"{API}/images/{i2['id']}", json={"is_primary": True}))
    assert _primaries(acme_owner, a) == [i2["id"]]
    # another entity's primary is its own
    assert _primaries(acme_owner, b) == [other["id"]]
    # unsetting leaves none
    h.ok(acme_owner.patch(f"{API}/images/{i2['id']}", json={"is_primary": False}))
    assert _primaries(acme_owner, a) == []


def test_racing_primaries_leave_one(acme_owner):
    content = m.png(8, 8, seed=4)
    entity = str(uuid.uuid4())
    imgs = [_image(acme_owner, entity, content)[0] for _ in range(4)]

    def make_primary(img):
        return acme_owner.patch(f"{API}/images/{img['id']}", json={"is_primary": True}).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(make_primary, imgs))
    # each wins in turn, or loses the race to the unique index (409): never two primaries
    assert set(codes) <= {200, 409} and 200 in codes, codes
    assert len(_primaries(acme_owner, entity)) == 1


def test_gallery_order_per_entity(acme_owner):
    content = m.png(8, 8, seed=5)
    entity = str(uuid.uuid4())
    made = [_image(acme_owner, entity, content, sort_order=n)[0] for n in (3, 1, 2)]
    _image(acme_owner, str(uuid.uuid4()), content, sort_order=0)
    listed = h.rows_where(acme_owner, "images", entity_id=entity)
    assert [r["sort_order"] for r in listed] == [1, 2, 3]
    # moving one to the front reorders the gallery
    h.ok(acme_owner.patch(f"{API}/images/{made[0]['id']}", json={"sort_order": 0}))
    listed = h.rows_where(acme_owner, "images", entity_id=entity)
    assert [r["id"] for r in listed] == [made[0]["id"], made[1]["id"], made[2]["id"]]
    h.expect_error(acme_owner.patch(f"{API}/images/{made[0]['id']}", json={"sort_order": "first"}), 400,
                   "validation_failed")
