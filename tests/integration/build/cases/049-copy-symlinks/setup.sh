mkdir -p dir/real
echo target > target.txt
echo inner > dir/real/inner.txt
ln -s target.txt link-to-file
ln -s real dir/link-to-dir
ln -s ../target.txt dir/up-link
ln -s /etc/passwd dir/abs-link
ln -s dir linkdir
